/* callsites.h - which code copied the pages: faults of a session by call site
 *
 * Pure computations over the fault groups of a loaded session (session.h,
 * schema 2): every fault is one page a process copied by writing to it, so
 * counts are pages. A native call site is the innermost native frame
 * (merged by function and file, all offsets in it together); a Python call
 * site is the innermost Python frame (function, file and line).
 */
#ifndef COWPROF_ANALYSIS_CALLSITES_H
#define COWPROF_ANALYSIS_CALLSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/session.h"

/* Pass as proc for the whole tree. */
#define CALLSITES_TREE (-1)

struct callsite {
	size_t frame;            /* a frame of the site: index into d->frames */
	uint64_t pages;
	size_t nprocs;           /* processes whose faults it holds */
};

/* Pages copied with a recorded fault, by process proc or the tree. */
uint64_t callsites_pages(const struct session_data *d, int proc);

/* kB per page: meta page_size / 1024, 4 when missing. */
uint64_t callsites_page_kb(const struct session_data *d);

/* Does the session hold any fault attribution (a fault source)? */
bool callsites_recorded(const struct session_data *d);

/* The n call sites with the most pages, most first (ties: by name), of
 * process proc or the tree (CALLSITES_TREE), by innermost Python frame or
 * innermost native frame. Faults without such a stack are left out.
 * Returns how many were written to out. */
size_t callsites_top(const struct session_data *d, int proc, bool python,
		     size_t n, struct callsite *out);

/* A frame as one short label: "func (file.py:12)" for Python,
 * "func" or "file+0x1a2b" for native, written to f. */
void callsites_put_frame(FILE *f, const struct session_frame *fr);

/* Write the fault groups as folded stacks ("a;b;c PAGES" lines, root
 * first), for flamegraph.pl and speedscope: the process's command, then
 * the Python frames and the native frames below the innermost Python
 * evaluation loop, or the whole native stack when there are no Python
 * frames. Identical lines are merged. Returns the number of lines. */
size_t callsites_folded(FILE *f, const struct session_data *d);

#endif
