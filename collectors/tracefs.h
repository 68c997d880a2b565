/* tracefs.h - find (or privately mount) tracefs and read tracepoint formats
 *
 * A tracepoint's `events/SYSTEM/NAME/format` file gives its id (the
 * perf_event_attr.config of a PERF_TYPE_TRACEPOINT event) and the layout of
 * its raw record (PERF_SAMPLE_RAW). Offsets change between kernels: find
 * fields by name here, never hard-code them.
 *
 * When tracefs is not mounted, it is mounted at a fresh private directory
 * for the time of the read, then unmounted and the directory removed. No
 * tracing setting is ever written.
 */
#ifndef COWPROF_COLLECTORS_TRACEFS_H
#define COWPROF_COLLECTORS_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tracefs_field {
	char *name;              /* "sig", "comm", "common_pid" */
	char *type;              /* the C type as written: "int", "char comm[16]" */
	uint32_t offset;         /* from the start of the raw record */
	uint32_t size;           /* bytes */
	bool is_signed;
	/* A __data_loc field: the 4 bytes at offset hold the data's offset from
	 * the start of the record (low 16 bits) and its length (high 16). */
	bool data_loc;
};

struct tracefs_format {
	char *name;              /* "signal_generate" */
	int id;                  /* the ID line: perf_event_attr.config */
	struct tracefs_field *fields;
	size_t nfields;
	uint32_t record_size;    /* end of the last fixed field */
};

/* Fill f from the text of a tracefs format file. Lines other than name:,
 * ID:, field: and the print fmt are ignored. Returns 0, or -EINVAL if the
 * text has no name, no ID or a malformed field line. On success f owns
 * allocations freed by tracefs_format_release(); on error f is left empty. */
int tracefs_format_parse(const char *text, size_t len, struct tracefs_format *f);

/* Free what f holds (not f); f is left empty. Safe on an empty format. */
void tracefs_format_release(struct tracefs_format *f);

/* The field called name, or NULL. The pointer lives as long as f. */
const struct tracefs_field *tracefs_format_field(const struct tracefs_format *f,
						 const char *name);

/* Read and parse ROOT/events/EVENT/format, where root is a tracefs mount
 * (or a fixture folder laid out alike) and event is "system/name".
 * Returns 0, -ENOENT if there is no such tracepoint, or -errno/-EINVAL. */
int tracefs_read_format_at(const char *root, const char *event,
			   struct tracefs_format *f);

/* Read the formats of the n events ("signal/signal_generate", ...) into
 * out[0..n-1] from the mounted tracefs, or from a private mount made for
 * this call. A missing event leaves its out[i] empty (id 0, no fields) and
 * is not an error. Returns 0 if tracefs could be read, else -errno with a
 * one-line reason in err (-EPERM: not allowed to mount; -ENODEV: no tracefs
 * in this kernel). On error every out[i] is empty. */
int tracefs_read_formats(const char *const *events, size_t n,
			 struct tracefs_format *out, char *err, size_t errlen);

#endif
