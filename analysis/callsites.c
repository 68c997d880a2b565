/* callsites.c - which code copied the pages: faults of a session by call site */
#include "analysis/callsites.h"
#include "common/format.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

uint64_t callsites_pages(const struct session_data *d, int proc)
{
	uint64_t n = 0;
	for (size_t i = 0; i < d->nfault_groups; i++)
		if (proc == CALLSITES_TREE || d->fault_groups[i].process == proc)
			n += d->fault_groups[i].pages;
	return n;
}

uint64_t callsites_page_kb(const struct session_data *d)
{
	const char *v = session_meta(d, SINK_META_PAGE_SIZE);
	long long b = v ? atoll(v) : 0;
	return b >= 1024 ? (uint64_t)b / 1024 : 4;
}

bool callsites_recorded(const struct session_data *d)
{
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].fault_method)
			return true;
	return false;
}

/* One fault group's innermost frame, while merging into sites. */
struct site_row {
	size_t frame;
	int process;
	uint64_t pages;
};

static const struct session_data *sort_d;  /* for the comparators */

/* Same call site: Python by function, file and line; native by function
 * and file, or by file offset when the function is unknown. */
static int site_cmp(size_t a, size_t b)
{
	const struct session_frame *x = &sort_d->frames[a], *y = &sort_d->frames[b];
	int c = strcmp(x->function, y->function);
	if (!c)
		c = strcmp(x->module, y->module);
	if (!c && x->python)
		c = (x->line > y->line) - (x->line < y->line);
	if (!c && !x->python && !*x->function)
		c = (x->offset > y->offset) - (x->offset < y->offset);
	return c;
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct site_row *a = pa, *b = pb;
	int c = site_cmp(a->frame, b->frame);
	return c ? c : (a->process > b->process) - (a->process < b->process);
}

static int top_cmp(const void *pa, const void *pb)
{
	const struct callsite *a = pa, *b = pb;
	if (a->pages != b->pages)
		return a->pages < b->pages ? 1 : -1;
	return site_cmp(a->frame, b->frame);
}

static size_t collect_rows(const struct session_data *d, int proc, bool python,
			   struct site_row *rows)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nfault_groups; i++) {
		const struct session_fault_group *g = &d->fault_groups[i];
		int k = python ? g->python_stack : g->native_stack;
		if ((proc != CALLSITES_TREE && g->process != proc) || k < 0 ||
		    d->stacks[k].nframes == 0)
			continue;
		rows[n++] = (struct site_row){ d->stacks[k].frames[0], g->process,
					       g->pages };
	}
	return n;
}

size_t callsites_top(const struct session_data *d, int proc, bool python,
		     size_t n, struct callsite *out)
{
	struct site_row *rows = xmalloc(d->nfault_groups * sizeof(*rows));
	size_t nrows = collect_rows(d, proc, python, rows);
	sort_d = d;
	qsort(rows, nrows, sizeof(*rows), row_cmp);
	struct callsite *sites = xmalloc((nrows + 1) * sizeof(*sites));
	size_t nsites = 0;
	for (size_t i = 0; i < nrows; i++) {
		bool same = i > 0 && site_cmp(rows[i - 1].frame, rows[i].frame) == 0;
		if (!same)
			sites[nsites++] = (struct callsite){ rows[i].frame, 0, 0 };
		struct callsite *s = &sites[nsites - 1];
		s->pages += rows[i].pages;
		if (!same || rows[i - 1].process != rows[i].process)
			s->nprocs++;
	}
	qsort(sites, nsites, sizeof(*sites), top_cmp);
	size_t k = nsites < n ? nsites : n;
	memcpy(out, sites, k * sizeof(*out));
	free(sites);
	free(rows);
	return k;
}

/* Text of the target, for terminals (format_put_text) and folded stacks,
 * which use ';' between frames. */
static void put_clean(FILE *f, const char *s)
{
	char *t = format_text_dup(s);
	for (char *p = t; *p; p++)
		if (*p == ';')
			*p = ':';
	fputs(t, f);
	free(t);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b && b[1] ? b + 1 : path;
}

void callsites_put_frame(FILE *f, const struct session_frame *fr)
{
	if (fr->python) {
		put_clean(f, *fr->function ? fr->function : "?");
		fputs(" (", f);
		put_clean(f, base_name(fr->module));
		fprintf(f, ":%d)", fr->line);
	} else if (*fr->function) {
		put_clean(f, fr->function);
	} else {
		put_clean(f, base_name(fr->module));
		fprintf(f, "+0x%llx", (unsigned long long)fr->offset);
	}
}

/* The native frames to show below Python ones: those inside the innermost
 * evaluation loop call (C code the Python line called into). */
static size_t native_below_python(const struct session_data *d,
				  const struct session_stack *k)
{
	for (size_t i = 0; i < k->nframes; i++)
		if (!strcmp(d->frames[k->frames[i]].function,
			    "_PyEval_EvalFrameDefault"))
			return i;
	return k->nframes;
}

static void put_stack(FILE *f, const struct session_data *d,
		      const struct session_stack *k, size_t nframes)
{
	for (size_t i = nframes; i-- > 0;) {
		fputc(';', f);
		callsites_put_frame(f, &d->frames[k->frames[i]]);
	}
}

static char *folded_line(const struct session_data *d,
			 const struct session_fault_group *g)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);
	if (!m)
		abort();
	const char *cmd = d->procs[g->process].cmd;
	put_clean(m, *cmd ? cmd : "?");
	const struct session_stack *nat = g->native_stack >= 0 ?
					  &d->stacks[g->native_stack] : NULL;
	if (g->python_stack >= 0) {
		const struct session_stack *py = &d->stacks[g->python_stack];
		put_stack(m, d, py, py->nframes);
		if (nat)
			put_stack(m, d, nat, native_below_python(d, nat));
	} else if (nat) {
		put_stack(m, d, nat, nat->nframes);
	}
	fclose(m);
	return line;
}

struct folded_row {
	char *line;
	uint64_t pages;
};

static int folded_cmp(const void *a, const void *b)
{
	return strcmp(((const struct folded_row *)a)->line,
		      ((const struct folded_row *)b)->line);
}

size_t callsites_folded(FILE *f, const struct session_data *d)
{
	struct folded_row *rows = xmalloc((d->nfault_groups + 1) * sizeof(*rows));
	size_t n = 0, out = 0;
	for (size_t i = 0; i < d->nfault_groups; i++) {
		const struct session_fault_group *g = &d->fault_groups[i];
		if (g->native_stack >= 0 || g->python_stack >= 0)
			rows[n++] = (struct folded_row){ folded_line(d, g), g->pages };
	}
	qsort(rows, n, sizeof(*rows), folded_cmp);
	for (size_t i = 0; i < n;) {
		uint64_t sum = 0;
		size_t j = i;
		for (; j < n && !strcmp(rows[j].line, rows[i].line); j++)
			sum += rows[j].pages;
		fprintf(f, "%s %llu\n", rows[i].line, (unsigned long long)sum);
		out++;
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].line);
	free(rows);
	return out;
}
