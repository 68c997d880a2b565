/* pagescan.c - one walk of a process's pagemap over all its regions */
#include "collectors/pagescan.h"
#include "collectors/pagemap.h"
#include "collectors/procfs.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_PAGES (2u << 20 >> 3)  /* 2 MiB of entries: 1 GiB of address space */
/* Regions this large (1 GiB) that are at least twice the process's whole
 * resident set (so mostly empty) are scanned for populated ranges first: a
 * pread costs ~1.2 ms per GiB even where nothing is resident, while on a
 * dense region the extra scan would double the walk. */
#define SPARSE_PAGES (1u << 18)

static void reserve(struct pagescan_proc *p, size_t c)
{
	p->pme = xrealloc(p->pme, c * sizeof(*p->pme));
	p->cap = c;
}

static void add_run(struct pagescan_proc *p, uint64_t vpn)
{
	util_grow((void **)&p->runs, &p->runcap, p->nruns + 1, sizeof(*p->runs));
	p->runs[p->nruns++] = (struct pagescan_run){ vpn, p->nrec, 0 };
}

/* Append the kept entries of one chunk read at vpn0. */
static void add_chunk(struct pagescan_proc *p, struct pagescan_region *g,
		      uint64_t vpn0, const uint64_t *buf, size_t n,
		      bool *hidden)
{
	if (p->cap - p->nrec < n)
		reserve(p, p->cap * 2 > p->nrec + n ? p->cap * 2 : p->nrec + n);
	for (size_t i = 0; i < n; i++) {
		uint64_t e = buf[i];
		if (!(e >> 62))  /* neither present nor swapped */
			continue;
		if (pagemap_present(e) && !pagemap_pfn(e))
			*hidden = true;
		struct pagescan_run *last = p->nruns > g->first_run ?
					    &p->runs[p->nruns - 1] : NULL;
		if (!last || last->vpn + last->n != vpn0 + i) {
			add_run(p, vpn0 + i);
			last = &p->runs[p->nruns - 1];
		}
		last->n++;
		p->pme[p->nrec++] = e;
	}
}

/* Size the record arrays for the resident set (statm's second field), so
 * a large process is not copied by repeated growth. */
static uint64_t presize(const char *root, int pid, struct pagescan_proc *p)
{
	char *text;
	size_t len;
	unsigned long long size = 0, resident = 0;
	if (procfs_read(root, pid, "statm", &text, &len) == 0) {
		if (sscanf(text, "%llu %llu", &size, &resident) != 2)
			resident = 0;
		free(text);
	}
	reserve(p, (size_t)resident + 1024);
	return resident;
}

static bool has_pagemap(enum maps_kind k)
{
	return k != MAPS_VSYSCALL && k != MAPS_VVAR;
}

/* Read the entries of [a, a + n pages) in chunks and keep those of
 * resident or swapped pages. Returns the pages read (short if the mapping
 * shrank or the process is exiting), or -errno. */
static ssize_t scan_range(struct pagescan_proc *p, struct pagescan_region *g,
			  int fd, uint64_t a, uint64_t pages, uint64_t *buf,
			  bool *hidden)
{
	uint64_t done = 0;
	while (done < pages) {
		uint64_t n = pages - done < CHUNK_PAGES ? pages - done : CHUNK_PAGES;
		uint64_t at = a + (done << 12);
		ssize_t r = pagemap_read_range(fd, at, at + (n << 12), buf);
		if (r < 0)
			return r;
		p->pages_walked += (uint64_t)r;
		add_chunk(p, g, at >> 12, buf, (size_t)r, hidden);
		done += (uint64_t)r;
		if ((uint64_t)r < n)
			break;
	}
	return (ssize_t)done;
}

/* A large region: find its populated ranges first (PAGEMAP_SCAN), then
 * read only those. Returns 0, -ENOTTY/-EINVAL without the ioctl, -errno. */
static int scan_sparse(struct pagescan_proc *p, struct pagescan_region *g,
		       int fd, uint64_t *buf, bool *hidden)
{
	uint64_t ranges[64][2], at = g->map.start;
	while (at < g->map.end) {
		uint64_t next;
		ssize_t n = pagemap_scan_present(fd, at, g->map.end, ranges, 64, &next);
		if (n < 0)
			return (int)n;
		for (ssize_t i = 0; i < n; i++) {
			uint64_t pages = (ranges[i][1] - ranges[i][0]) >> 12;
			ssize_t r = scan_range(p, g, fd, ranges[i][0], pages, buf, hidden);
			if (r < 0)
				return (int)r;
		}
		if (next <= at)
			break;
		at = next;
	}
	return 0;
}

/* Walk one region; returns 0, or -errno from the read. */
static int scan_region(struct pagescan_proc *p, struct pagescan_region *g,
		       int fd, uint64_t *buf, uint64_t resident, bool *hidden)
{
	g->first = p->nrec;
	g->first_run = p->nruns;
	uint64_t pages = (g->map.end - g->map.start) >> 12;
	int r = -ENOTTY;
	if (pages >= SPARSE_PAGES && pages > 2 * resident)
		r = scan_sparse(p, g, fd, buf, hidden);
	if (r == -ENOTTY || r == -EINVAL) {
		/* no PAGEMAP_SCAN: read it all; drop what a failed scan kept */
		p->nrec = g->first;
		p->nruns = g->first_run;
		ssize_t n = scan_range(p, g, fd, g->map.start, pages, buf, hidden);
		r = n < 0 ? (int)n : 0;
	}
	g->n = p->nrec - g->first;
	g->nruns = p->nruns - g->first_run;
	return r;
}

static int read_maps(const char *root, int pid, struct pagescan_proc *p)
{
	char *text;
	size_t len;
	struct maps_region *m;
	size_t n;
	int r = procfs_read(root, pid, "maps", &text, &len);
	if (r < 0)
		return r;
	r = maps_parse(text, len, &m, &n);
	free(text);
	if (r < 0)
		return r;
	p->regions = xcalloc(n, sizeof(*p->regions));
	for (size_t i = 0; i < n; i++)
		p->regions[i].map = m[i];
	p->nregions = n;
	free(m);  /* the paths moved into p->regions */
	return 0;
}

int pagescan_read(const char *root, int pid, struct pagescan_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	int fd = pagemap_open(root, pid);
	if (fd < 0)
		return fd;
	int r = read_maps(root, pid, p);
	uint64_t resident = presize(root, pid, p);
	uint64_t *buf = xmalloc(CHUNK_PAGES * sizeof(uint64_t));
	bool hidden = false;
	for (size_t i = 0; r == 0 && i < p->nregions; i++) {
		struct pagescan_region *g = &p->regions[i];
		if (has_pagemap(g->map.kind))
			r = scan_region(p, g, fd, buf, resident, &hidden);
		else
			g->first = p->nrec, g->first_run = p->nruns;
	}
	free(buf);
	close(fd);
	if (r == 0 && hidden)
		r = -EPERM;
	if (r < 0)
		pagescan_release(p);
	return r;
}

void pagescan_release(struct pagescan_proc *p)
{
	for (size_t i = 0; i < p->nregions; i++)
		free(p->regions[i].map.path);
	free(p->regions);
	free(p->runs);
	free(p->pme);
	int pid = p->pid;
	memset(p, 0, sizeof(*p));
	p->pid = pid;
}

const struct pagescan_region *pagescan_find(const struct pagescan_proc *p,
					    uint64_t addr)
{
	size_t lo = 0, hi = p->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pagescan_region *g = &p->regions[mid];
		if (addr < g->map.start)
			hi = mid;
		else if (addr >= g->map.end)
			lo = mid + 1;
		else
			return g;
	}
	return NULL;
}
