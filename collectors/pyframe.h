/* pyframe.h - the Python frames of a CPython 3.11 thread, read from memory
 *
 * Used two ways: inside a process, from a signal handler of the preload
 * library (reads are plain loads), and from outside, by the perf attach path
 * (reads are process_vm_readv). Finding the layout (which interpreter, where
 * _PyRuntime is, whether the offsets fit the running interpreter) is done
 * once, outside any handler; walking is async-signal-safe: no allocation, no
 * locks, no stdio.
 */
#ifndef COWPROF_COLLECTORS_PYFRAME_H
#define COWPROF_COLLECTORS_PYFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the interpreter's state lives in one process, and the offsets of the
 * 3.11 structures the walk follows. Plain data: copy it freely. */
struct pyframe_layout {
	uint64_t runtime_addr;    /* &_PyRuntime in the process */
	uint32_t version_hex;     /* PY_VERSION_HEX of the running interpreter */
	/* offsets into _PyRuntimeState, PyInterpreterState, PyThreadState,
	 * _PyCFrame, _PyInterpreterFrame, PyCodeObject, PyBytesObject and
	 * PyUnicodeObject (3.11, x86_64) */
	uint32_t off_runtime_interp_head;
	uint32_t off_interp_tstate_head;
	uint32_t off_tstate_next;
	uint32_t off_tstate_native_tid;
	uint32_t off_tstate_cframe;
	uint32_t off_cframe_current_frame;
	uint32_t off_frame_code;
	uint32_t off_frame_previous;
	uint32_t off_frame_prev_instr;
	uint32_t off_frame_owner;
	uint32_t off_code_filename;
	uint32_t off_code_name;
	uint32_t off_code_qualname;
	uint32_t off_code_linetable;
	uint32_t off_code_firstlineno;
	uint32_t off_code_code_adaptive;  /* first instruction (_PyCode_CODE) */
	uint32_t off_bytes_size;          /* ob_size of any PyVarObject */
	uint32_t off_bytes_data;
	/* added after the first version of this header */
	uint32_t off_runtime_tstate_current;  /* gilstate.tstate_current */
	uint32_t off_interp_next;
	uint32_t off_tstate_interp;
	uint32_t off_code_firsttraceable;     /* _PyFrame_IsIncomplete needs it */
	uint32_t off_object_type;             /* ob_type */
	uint32_t off_unicode_length;          /* PyASCIIObject.length */
	uint32_t off_unicode_state;           /* PyASCIIObject.state bits */
	uint32_t off_unicode_ascii_data;      /* sizeof(PyASCIIObject) */
	uint32_t off_unicode_compact_data;    /* sizeof(PyCompactUnicodeObject),
					       * also PyUnicodeObject.data.any */
	/* &PyCode_Type, &PyBytes_Type, &PyUnicode_Type in the process, checked
	 * against ob_type before an object is trusted (0: not checked) */
	uint64_t type_code;
	uint64_t type_bytes;
	uint64_t type_unicode;
};

/* Fill l with the 3.11 x86_64 offsets, runtime_addr and the type addresses
 * 0 and version_hex 0x030b0000. */
void pyframe_layout_init_311(struct pyframe_layout *l);

/* Reads len bytes at addr of the process into buf: true on success. */
typedef bool (*pyframe_read_fn)(void *ctx, uint64_t addr, void *buf,
				size_t len);

/* Readers: in this process (ctx unused; plain loads, only for addresses the
 * walk reached from the calling thread's own state), and in process *(pid_t
 * *)ctx through process_vm_readv. Both async-signal-safe. */
bool pyframe_read_self(void *ctx, uint64_t addr, void *buf, size_t len);
bool pyframe_read_pid(void *ctx, uint64_t addr, void *buf, size_t len);

/* A reader of process pid that reads whole 4 KiB pages with
 * process_vm_readv and keeps the last PYFRAME_CACHE_PAGES of them: a walk
 * (frames sit next to each other in CPython's data stack, a recursion
 * reuses its code objects) then costs a few system calls instead of about
 * four a frame. The pages are a snapshot: init again (or
 * pyframe_cache_reset) before each walk of a running process. The struct is
 * large (~130 KiB): allocate it, don't put it on a signal stack. */
#define PYFRAME_CACHE_PAGES 32
struct pyframe_cache {
	pid_t pid;
	unsigned used, next;
	uint64_t page[PYFRAME_CACHE_PAGES];
	uint8_t data[PYFRAME_CACHE_PAGES][4096];
};
void pyframe_cache_init(struct pyframe_cache *c, pid_t pid);
void pyframe_cache_reset(struct pyframe_cache *c);
/* ctx is a struct pyframe_cache *. */
bool pyframe_read_cached(void *ctx, uint64_t addr, void *buf, size_t len);

/* Find the layout of process pid (0: this process) under proc root
 * proc_root (NULL: "/proc"): its python binary or libpython3.11 among its
 * mappings, _PyRuntime from that file's symbols plus the load bias, and a
 * check against the live interpreter's memory. Returns 0, -ENOENT when the
 * process runs no CPython, -ENOTSUP when it is not a 3.11 whose layout we
 * know or the check fails (why says which, in one line), -EAGAIN when the
 * interpreter is not initialised yet (an LD_PRELOAD constructor runs before
 * Py_Initialize: call again later, e.g. in a fork child), or another -errno
 * (-ESRCH when the process vanished). why gets a line on every failure.
 * Not async-signal-safe (reads files, allocates). */
int pyframe_layout_find(const char *proc_root, pid_t pid,
			struct pyframe_layout *l, char *why, size_t whylen);

/* The PyThreadState of thread tid (a kernel thread id) of the process, or 0
 * when the thread has none. Tries the thread holding the GIL first (one
 * read), then the interpreters' thread lists (bounded). Async-signal-safe;
 * in-process, walking the list races with threads starting or ending, so
 * a caller should cache the result per thread. */
uint64_t pyframe_thread_state(const struct pyframe_layout *l,
			      pyframe_read_fn rd, void *ctx, pid_t tid);

/* One Python frame: the code object and the line it is at (-1 unknown). */
struct pyframe {
	uint64_t code;
	int32_t line;
};

/* The frames of thread state tstate, innermost first, at most max.
 * Incomplete frames (not yet at their first RESUME) are skipped, as CPython
 * does. Returns how many, or -1 when the chain cannot be read at all; a
 * chain that breaks further out (unreadable frame, a code object whose type
 * is not code) ends the walk with the frames read so far. Never loops: at
 * most max + 64 frames are visited. Async-signal-safe. */
int pyframe_walk(const struct pyframe_layout *l, pyframe_read_fn rd,
		 void *ctx, uint64_t tstate, struct pyframe *out, int max);

/* The same walk from the _PyInterpreterFrame at address frame (e.g. one
 * found in a stack snapshot) instead of the thread's current frame. */
int pyframe_walk_from(const struct pyframe_layout *l, pyframe_read_fn rd,
		      void *ctx, uint64_t frame, struct pyframe *out, int max);

/* What a walk needs of a code object. A code object does not change while
 * it lives (a frame holds a reference to its own), so a reader outside
 * the process can keep these and skip two reads a frame: the frames are
 * read, their code objects looked up. */
struct pyframe_code {
	int64_t units;           /* code units of co_code_adaptive */
	int32_t firsttraceable;  /* _PyFrame_IsIncomplete needs it */
	int32_t firstlineno;
	uint64_t table_addr;     /* co_linetable's bytes in the process, 0 when
				  * unreadable (every line then -1) */
	size_t tlen;
	const uint8_t *table;    /* a copy of those bytes, or NULL: read
				  * through the reader */
	int64_t memo_lasti;      /* the last line the walk looked up in the
				  * table (an outer frame waits at one
				  * instruction); INT64_MIN: none */
	int32_t memo_line;
};

/* Read code object code's header and its location table's size (not the
 * table's bytes: table NULL) into *out, checking both objects' types.
 * Returns 0, or -1 when code is not a readable code object.
 * Async-signal-safe. */
int pyframe_code_read(const struct pyframe_layout *l, pyframe_read_fn rd,
		      void *ctx, uint64_t code, struct pyframe_code *out);

/* The caller's copy of code object code (read and kept on a miss), valid
 * until the next call; NULL when it is not a code object. The walk
 * updates its memo. */
typedef struct pyframe_code *(*pyframe_code_fn)(void *ctx, uint64_t code);

/* pyframe_walk_from, taking the code objects from codes(codes_ctx, ...)
 * instead of reading them. */
int pyframe_walk_codes(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, pyframe_code_fn codes, void *codes_ctx,
		       uint64_t frame, struct pyframe *out, int max);

/* The qualified name and file name of code object code, NUL-terminated and
 * cut to the buffer sizes (UTF-8, never a partial character). Either buffer
 * may be NULL. Returns 0 or -1. Async-signal-safe. */
int pyframe_code_names(const struct pyframe_layout *l, pyframe_read_fn rd,
		       void *ctx, uint64_t code, char *name, size_t namelen,
		       char *file, size_t filelen);

/* The line of instruction offset lasti (in code units) of code, from its
 * 3.11 location table given as bytes (Objects/locations.md): as
 * PyCode_Addr2Line, firstlineno when lasti < 0, -1 when the instruction has
 * no line or is not in the table. Pure. */
int pyframe_line_from_table(const uint8_t *table, size_t len,
			    int firstlineno, int lasti);

#endif
