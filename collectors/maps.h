/* maps.h - parse /proc/PID/maps lines and classify each region */
#ifndef COWPROF_COLLECTORS_MAPS_H
#define COWPROF_COLLECTORS_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What backs a region, decided from its permissions, inode and path. */
enum maps_kind {
	MAPS_ANON,          /* private anonymous (incl. [anon:name], private /dev/zero) */
	MAPS_HEAP,          /* [heap] */
	MAPS_STACK,         /* [stack], [stack:TID] */
	MAPS_FILE_PRIVATE,  /* private file mapping: page cache until written */
	MAPS_FILE_SHARED,   /* MAP_SHARED of a regular file */
	MAPS_SHMEM,         /* shared anonymous, memfd, /dev/shm: swap-backed shared memory */
	MAPS_SYSV,          /* SysV shared memory segment (/SYSV...) */
	MAPS_HUGETLB,       /* hugetlbfs pages (anon_hugepage, /dev/hugepages/...) */
	MAPS_VDSO,          /* [vdso] */
	MAPS_VVAR,          /* [vvar], [vvar_vclock] */
	MAPS_VSYSCALL,      /* [vsyscall] */
	MAPS_SPECIAL,       /* any other [name] the kernel shows */
	MAPS_KIND_COUNT
};

struct maps_region {
	uint64_t start, end;     /* [start, end) virtual addresses */
	bool read, write, exec, shared;
	uint64_t offset;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	bool deleted;            /* the path ended in " (deleted)" (stripped) */
	enum maps_kind kind;
	char *path;              /* "" for anonymous regions; owned by the region */
};

/* Parse one maps line (without its newline) into r, allocating r->path.
 * Returns 0 or -EINVAL. */
int maps_parse_line(const char *line, size_t len, struct maps_region *r);

/* Parse the whole text of /proc/PID/maps into a new array (*out, caller
 * frees with maps_free) of *n regions in address order. Returns 0 or
 * -EINVAL at the first malformed line. */
int maps_parse(const char *text, size_t len, struct maps_region **out,
	       size_t *n);

void maps_free(struct maps_region *regions, size_t n);

/* Classify from the fields already parsed (used by maps_parse_line). */
enum maps_kind maps_classify(const struct maps_region *r);

/* Short stable name of a kind: "anon", "heap", "stack", "file", ... */
const char *maps_kind_name(enum maps_kind k);

/* Memory that is shared by construction and never copied on write. */
static inline bool maps_kind_is_shared(enum maps_kind k)
{
	return k == MAPS_SHMEM || k == MAPS_SYSV || k == MAPS_FILE_SHARED;
}

/* Private anonymous memory: where copy-on-write happens. */
static inline bool maps_kind_is_anon(enum maps_kind k)
{
	return k == MAPS_ANON || k == MAPS_HEAP || k == MAPS_STACK;
}

#endif
