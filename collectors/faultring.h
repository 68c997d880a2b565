/* faultring.h - the per-process ring of first-write fault events
 *
 * Written by libcowprof_preload.so inside a forked child (from its SIGBUS
 * handler: async-signal-safe, several threads at once), read by cowprof.
 * One file per process, <spool>/faults.<pid>, shared-mapped by the writer;
 * the reader treats it as untrusted. The layout is below and in
 * docs/faults.md; FAULTRING_VERSION changes with it.
 */
#ifndef COWPROF_COLLECTORS_FAULTRING_H
#define COWPROF_COLLECTORS_FAULTRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collectors/pyframe.h"

#define FAULTRING_MAX_NATIVE 48
#define FAULTRING_MAX_PY 48

/* One event as the reader hands it out. */
struct faultring_event {
	double t;               /* seconds since the epoch */
	pid_t pid, tid;
	uint64_t addr;          /* the faulting address */
	uint32_t nnative, npy;
	uint64_t weight;        /* faults it stands for (0 or 1: itself) */
	uint64_t native[FAULTRING_MAX_NATIVE];  /* IPs, innermost first */
	struct pyframe py[FAULTRING_MAX_PY];    /* innermost first */
};

/* ---- file layout (version 1), all fields little-endian x86_64 ----
 *
 *   [0, 4096)                    struct faultring_file_header
 *   [slots_off, +nslots*1024)    nslots fixed slots, struct faultring_slot
 *   [codes_off, +ncodes*512)     code-name table, struct faultring_code
 *
 * Slots: a writer reserves index h by compare-and-swap on head while
 * head - tail < nslots (else it counts a drop), fills slot h % nslots and
 * then stores seq = h + 1 (release). The reader consumes slot tail % nslots
 * when its seq == tail + 1, then stores tail + 1. The file is sparse: slots
 * never written cost nothing. */
#define FAULTRING_MAGIC "COWFRNG1"
#define FAULTRING_VERSION 1
#define FAULTRING_HEADER_SIZE 4096
#define FAULTRING_SLOT_SIZE 1024
#define FAULTRING_CODE_SIZE 512
#define FAULTRING_NAME_MAX 160   /* bytes of a code name with its NUL */
#define FAULTRING_FILE_MAX 336   /* bytes of a code file name with its NUL */
#define FAULTRING_STATUS_MAX 160
#define FAULTRING_DEFAULT_SLOTS 16384
#define FAULTRING_DEFAULT_CODES 4096

struct faultring_file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t slot_size, nslots;
	uint32_t code_size, ncodes;
	uint64_t slots_off, codes_off, file_size;
	int32_t pid;
	uint32_t flags;                 /* FAULTRING_F_* */
	uint64_t armed_pages;           /* pages write-protected at fork */
	uint64_t armed_ranges;
	char python_status[FAULTRING_STATUS_MAX]; /* NUL-terminated */
	int32_t arm_error;              /* errno why nothing was armed, or 0 */
	uint8_t pad0[256 - 84 - FAULTRING_STATUS_MAX];
	/* counters the writers and the reader update, one cache line each */
	uint64_t head;        uint8_t pad1[56];   /* at 256 */
	uint64_t tail;        uint8_t pad2[56];   /* at 320 */
	uint64_t dropped;     uint8_t pad3[56];   /* at 384 */
	uint64_t self_faults; uint8_t pad4[56];   /* at 448: hit by the handler itself */
	uint64_t kernel_writes; uint8_t pad5[56]; /* at 512: syscall buffers unprotected */
};

#define FAULTRING_F_NATIVE 1u   /* native stacks recorded */
#define FAULTRING_F_PYTHON 2u   /* Python frames recorded */

#define FAULTRING_SLOT_KERNEL 1u /* event flags: a syscall was about to write */

struct faultring_slot {
	uint64_t seq;           /* index + 1 once committed */
	uint64_t t_ns;          /* CLOCK_REALTIME */
	uint64_t addr;
	int32_t tid;
	uint8_t nnative, npy;
	uint16_t flags;
	uint64_t native[FAULTRING_MAX_NATIVE];
	uint64_t py_code[FAULTRING_MAX_PY];
	int32_t py_line[FAULTRING_MAX_PY];
};

struct faultring_code {
	uint64_t code;          /* 0: free; claimed by compare-and-swap */
	uint32_t state;         /* 2 once name and file are written */
	uint32_t pad;
	char name[FAULTRING_NAME_MAX];
	char file[FAULTRING_FILE_MAX];
};

_Static_assert(sizeof(struct faultring_file_header) <= FAULTRING_HEADER_SIZE, "header");
_Static_assert(sizeof(struct faultring_slot) <= FAULTRING_SLOT_SIZE, "slot");
_Static_assert(sizeof(struct faultring_code) == FAULTRING_CODE_SIZE, "code");

/* ---- writer side (the preload library; every function async-signal-safe) */

struct faultring_writer {
	struct faultring_file_header *h;   /* NULL: no ring */
	size_t size;
};

/* Create <dir>/faults.<pid> (through a temporary name, so a reader never
 * sees a half-made header) with nslots slots and ncodes code entries, map it
 * shared and fill w. Returns 0 or -errno. Only system calls: safe in a fork
 * child handler. */
int faultring_writer_open(struct faultring_writer *w, const char *dir,
			    pid_t pid, uint32_t nslots, uint32_t ncodes,
			    uint32_t flags, const char *python_status);

/* Reserve a slot: returns it with *idx set, or NULL (the ring is full: the
 * drop is counted). The caller fills it and calls faultring_writer_commit. */
struct faultring_slot *faultring_writer_reserve(struct faultring_writer *w,
						uint64_t *idx);
void faultring_writer_commit(struct faultring_writer *w,
			     struct faultring_slot *s, uint64_t idx);

/* The code-table entry of code: returns NULL when code is already in the
 * table or the table has no room near its hash; else claims a new entry the
 * caller fills (name, file) and publishes with faultring_writer_code_done. */
struct faultring_code *faultring_writer_code_claim(struct faultring_writer *w,
						   uint64_t code);
void faultring_writer_code_done(struct faultring_code *c);

/* Add n to one of the header's counters (&w->h->dropped, ...). */
void faultring_writer_count(uint64_t *counter, uint64_t n);

/* Unmap (the file stays for the reader). */
void faultring_writer_close(struct faultring_writer *w);

/* ---- reader side (cowprof) ---- */

struct faultring;  /* a reader over one process's ring file */

/* Open the ring file at path for reading (and for advancing its tail).
 * Returns 0 and *out, or -errno; -EINVAL when the file is not a ring of this
 * version or its header is inconsistent. */
int faultring_open(const char *path, struct faultring **out);

/* The next committed event into ev: 1 got one, 0 nothing committed now
 * (more may come), -errno on a file that turned out malformed. A slot whose
 * content is out of bounds is consumed and counted as dropped. */
int faultring_next(struct faultring *r, struct faultring_event *ev);

/* Once the writing process has exited: give up on slots reserved but never
 * committed (a writer that died mid-record), counting them as dropped, so
 * faultring_next reaches the committed slots after them. Returns how many
 * were skipped. */
uint64_t faultring_skip_stalled(struct faultring *r);

/* Name and file of a Python code object seen in this ring (copied into the
 * ring by the handler the first time it saw that code object). The strings
 * belong to r and stay valid until faultring_close. Returns 0 or -ENOENT
 * (-ENOMEM when out of memory). */
int faultring_code_names(struct faultring *r, uint64_t code, const char **name,
			 const char **file);

/* Events the writer could not record (ring full) plus slots the reader had
 * to discard or skip. */
uint64_t faultring_dropped(const struct faultring *r);

/* "" when Python frames are recorded, else "no CPython" or the one-line
 * reason they are off. Owned by r. */
const char *faultring_python_status(const struct faultring *r);

/* The process that wrote the ring. */
pid_t faultring_pid(const struct faultring *r);

/* Pages write-protected when the process was forked. */
uint64_t faultring_armed_pages(const struct faultring *r);

/* 0, or the errno that kept the library from arming anything in this
 * process (EPERM: userfaultfd not allowed; ENOSYS: no userfaultfd). */
int faultring_arm_error(const struct faultring *r);

/* First writes the handler had to let through without an event because it
 * made them itself, and syscall buffers unprotected before the kernel wrote
 * them (those are recorded as events with FAULTRING_SLOT_KERNEL). */
uint64_t faultring_self_faults(const struct faultring *r);
uint64_t faultring_kernel_writes(const struct faultring *r);

/* Unmap and free; NULL does nothing. */
void faultring_close(struct faultring *r);

#endif
