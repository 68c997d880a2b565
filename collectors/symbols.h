/* symbols.h - turn instruction addresses of a process into function names
 *
 * A cache of ELF files (executables, shared libraries, the vDSO), each read
 * once with libelf: its function symbols (.symtab and .dynsym merged, with
 * the .symtab of a separate debug file found by build-id, sorted once,
 * binary searched per lookup), its PT_LOAD segments (which turn a file
 * offset into the ELF's own virtual address, absorbing the load bias of PIE
 * executables and shared libraries), and, where the file has DWARF, its line
 * table (libdw). Used after the fact by the recorder, never in a signal
 * handler: it allocates, opens files and is not thread-safe.
 *
 * Only x86_64 processes of this kernel are expected: [vdso] is resolved from
 * this process's own vDSO, which is the same image.
 */
#ifndef COWPROF_COLLECTORS_SYMBOLS_H
#define COWPROF_COLLECTORS_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collectors/maps.h"

struct symbols;

/* Where one instruction address lies. Strings are owned by the cache and
 * stay valid until symbols_free. */
struct symbols_frame {
	const char *function;    /* NULL when unknown (stripped, JIT, no file) */
	uint64_t func_offset;    /* address - function start (0 if unknown) */
	const char *module;      /* path of the mapped file ("... (deleted)" when
				  * it was), "[anon]" for anonymous memory,
				  * "[vdso]", "[heap]", ...; NULL when the
				  * address is in no mapping */
	uint64_t module_offset;  /* file offset of the address (for [vdso] and
				  * anonymous memory: address - mapping start) */
	const char *source_file; /* from DWARF; NULL without debug info */
	int line;                /* 0 without debug info */
};

/* An empty cache. Never fails (aborts on exhaustion like xmalloc). */
struct symbols *symbols_new(void);

/* Free the cache, every file it opened and every string it returned.
 * symbols_free(NULL) does nothing. */
void symbols_free(struct symbols *s);

/* Where separate debug files are looked for, by GNU build-id:
 * DIR/.build-id/ab/cdef....debug. They complete a file that lacks a .symtab
 * (stripped: only exported functions) or DWARF. Default /usr/lib/debug,
 * where Debian's -dbgsym packages install them. Applies to files loaded
 * after the call. */
void symbols_set_debug_dir(struct symbols *s, const char *dir);

/* Resolve the byte at file_offset of the ELF file at path (the file as it is
 * now; read once, then cached by path). Fills out: module is the cache's
 * copy of path, module_offset is file_offset, function NULL when no function
 * symbol covers it. Returns 0 when the file was read (even if no function
 * covers the offset), or -errno when it could not be opened (-ENOENT,
 * -EACCES, ...) or -ENOEXEC when it is not a readable ELF file; failures are
 * cached too, so a missing file is tried once. */
int symbols_resolve(struct symbols *s, const char *path, uint64_t file_offset,
		    struct symbols_frame *out);

/* Resolve ip, an address in the process whose mappings are maps[0..nmaps)
 * (as maps_parse returns them: sorted by address). Files are cached by path,
 * device and inode of the mapping, so one file mapped by every process of a
 * tree is read once. When the file at the path is no longer the one mapped
 * (deleted, or replaced: another inode) and pid > 0, the mapped file is read
 * through /proc/PID/map_files/ (needs CAP_SYS_ADMIN, i.e. root); with
 * pid <= 0, or when that fails, function is NULL. For return addresses of a
 * stack, resolve ip - 1 so that source_file:line name the call, not the
 * instruction after it. Returns 0 when ip is in a mapping (out filled,
 * function possibly NULL), -ENOENT when it is in none (module NULL). */
int symbols_resolve_ip(struct symbols *s, pid_t pid,
		       const struct maps_region *maps, size_t nmaps,
		       uint64_t ip, struct symbols_frame *out);

/* Open the file that mapping r maps, read-only: by its path when that still
 * names the mapped device and inode, else, with pid > 0, through
 * /proc/PID/map_files/. Returns an fd the caller closes, or -errno (-ESTALE
 * when the file was deleted or replaced and there is no pid). */
int symbols_open_mapped(pid_t pid, const struct maps_region *r);

/* The mapping of maps[0..nmaps) (sorted by address) that contains addr, or
 * NULL. */
const struct maps_region *symbols_find_mapping(const struct maps_region *maps,
					       size_t nmaps, uint64_t addr);

#endif
