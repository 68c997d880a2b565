/* pagescan.c - one walk of a process's pagemap over all its regions */
#include "pagescan.h"
#include "pagemap.h"
#include "procfs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_PAGES (2u << 20 >> 3)  /* 2 MiB of entries: 1 GiB of address space */

static void add_record(struct pagescan_proc *p, uint64_t vpn, uint64_t pme)
{
	if (p->nrec == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 4096;
		p->vpn = xrealloc(p->vpn, c * sizeof(*p->vpn));
		p->pme = xrealloc(p->pme, c * sizeof(*p->pme));
		p->cap = c;
	}
	p->vpn[p->nrec] = vpn;
	p->pme[p->nrec++] = pme;
}

static bool has_pagemap(enum maps_kind k)
{
	return k != MAPS_VSYSCALL && k != MAPS_VVAR;
}

/* Walk one region in chunks; returns 0, or -errno from the read. A short
 * read means the region shrank or the process is exiting: keep what we have. */
static int scan_region(struct pagescan_proc *p, struct pagescan_region *g,
		       int fd, uint64_t *buf, bool *hidden)
{
	g->first = p->nrec;
	uint64_t pages = (g->map.end - g->map.start) >> 12;
	for (uint64_t off = 0; off < pages; off += CHUNK_PAGES) {
		uint64_t n = pages - off < CHUNK_PAGES ? pages - off : CHUNK_PAGES;
		uint64_t a = g->map.start + (off << 12);
		ssize_t r = pagemap_read_range(fd, a, a + (n << 12), buf);
		if (r < 0)
			return (int)r;
		p->pages_walked += (uint64_t)r;
		for (ssize_t i = 0; i < r; i++) {
			uint64_t e = buf[i];
			if (!(e >> 62))  /* neither present nor swapped */
				continue;
			if (pagemap_present(e) && !pagemap_pfn(e))
				*hidden = true;
			add_record(p, (a >> 12) + (uint64_t)i, e);
		}
		if ((uint64_t)r < n)
			break;
	}
	g->n = p->nrec - g->first;
	return 0;
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
	uint64_t *buf = xmalloc(CHUNK_PAGES * sizeof(uint64_t));
	bool hidden = false;
	for (size_t i = 0; r == 0 && i < p->nregions; i++) {
		struct pagescan_region *g = &p->regions[i];
		if (has_pagemap(g->map.kind))
			r = scan_region(p, g, fd, buf, &hidden);
		else
			g->first = p->nrec;
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
	free(p->vpn);
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
