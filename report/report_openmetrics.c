/* report_openmetrics.c - the last sample of a session as OpenMetrics gauges
 *
 * The OpenMetrics text format (openmetrics.io): each family has # TYPE,
 * # UNIT (its name ends with the unit) and # HELP lines, then its samples
 * together; label values escape \, " and newline; the text ends with
 * "# EOF". No timestamps on samples (Prometheus' text parser reads them as
 * milliseconds, OpenMetrics as seconds): the sample's time is a gauge.
 */
#include "report/report.h"

#include <inttypes.h>
#include <stddef.h>

struct om_proc_gauge {
	const char *name;        /* without the cowprof_ prefix and _bytes */
	const char *help;
	size_t offset;           /* of a uint64_t kB figure in cow_figures */
};

static const struct om_proc_gauge proc_gauges[] = {
	{ "rss", "Resident memory of the process (as smaps Rss).",
	  offsetof(struct cow_figures, rss_kb) },
	{ "pss", "Proportional set size: each page divided among the processes mapping it.",
	  offsetof(struct cow_figures, pss_kb) },
	{ "uss", "Unique set size: pages only this process maps.",
	  offsetof(struct cow_figures, uss_kb) },
	{ "shared_with_parent", "Pages still the same physical page as the parent's at the same address.",
	  offsetof(struct cow_figures, shared_with_parent_kb) },
	{ "copied", "Inherited pages whose sharing with the parent was broken by a write.",
	  offsetof(struct cow_figures, copied_kb) },
	{ "new", "Private pages the parent has no page for (allocated after fork).",
	  offsetof(struct cow_figures, new_kb) },
};

#define NPROC_GAUGES (sizeof(proc_gauges) / sizeof(proc_gauges[0]))

static void family(FILE *f, const char *name, const char *unit, const char *help)
{
	fprintf(f, "# TYPE cowprof_%s gauge\n", name);
	if (unit)
		fprintf(f, "# UNIT cowprof_%s %s\n", name, unit);
	fprintf(f, "# HELP cowprof_%s %s\n", name, help);
}

static void labels(FILE *f, const struct report_input *in, size_t i)
{
	const struct session_process *p = &in->d->procs[i];
	fprintf(f, "{pid=\"%d\",ppid=\"%d\",role=\"%s\",command=\"", p->pid, p->ppid,
		analysis_role_name(in->a->procs[i].role));
	report_put_om_label(f, p->cmd);
	fputs("\"}", f);
}

/* The point of process i at the last sample, or NULL. */
static const struct session_point *last_point(const struct report_input *in,
					      size_t i)
{
	const struct session_process *p = &in->d->procs[i];
	if (!p->npoints || !in->d->nsamples ||
	    p->points[p->npoints - 1].sample != in->d->nsamples - 1)
		return NULL;
	return &p->points[p->npoints - 1];
}

static void proc_family(FILE *f, const struct report_input *in,
			const struct om_proc_gauge *g)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_bytes", g->name);
	family(f, name, "bytes", g->help);
	for (size_t o = 0; o < in->d->nprocs; o++) {
		size_t i = in->a->order[o];
		const struct session_point *pt = last_point(in, i);
		if (!pt)
			continue;
		uint64_t kb = *(const uint64_t *)((const char *)&pt->fig + g->offset);
		fprintf(f, "cowprof_%s", name);
		labels(f, in, i);
		fprintf(f, " %" PRIu64 "\n", kb * 1024);
	}
}

static void tree_gauge(FILE *f, const char *name, const char *unit,
		       const char *help, const char *value)
{
	family(f, name, unit, help);
	fprintf(f, "cowprof_%s %s\n", name, value);
}

static void tree_bytes(FILE *f, const char *name, const char *help, uint64_t kb)
{
	char v[32];
	snprintf(v, sizeof(v), "%" PRIu64, kb * 1024);
	tree_gauge(f, name, "bytes", help, v);
}

static void tree_families(FILE *f, const struct report_input *in)
{
	const struct session_sample *s = &in->d->samples[in->d->nsamples - 1];
	char v[32];
	tree_bytes(f, "tree_rss_bytes", "Sum of the RSS of every process of the tree.",
		   s->tree.rss_kb);
	tree_bytes(f, "tree_pss_bytes", "Sum of the PSS of every process of the tree.",
		   s->tree.pss_kb);
	tree_bytes(f, "tree_uss_bytes", "Sum of the USS of every process of the tree.",
		   s->tree.uss_kb);
	tree_bytes(f, "tree_unique_bytes",
		   "Real memory of the tree: every physical page it maps, once.",
		   s->tree.unique_kb);
	snprintf(v, sizeof(v), "%zu", s->nprocs);
	tree_gauge(f, "tree_processes", NULL, "Processes in the tree.", v);
	snprintf(v, sizeof(v), "%.3f", s->t);
	tree_gauge(f, "sample_timestamp_seconds", "seconds",
		   "When the sample was taken, in seconds since the epoch.", v);
}

void report_openmetrics(FILE *f, const struct report_input *in)
{
	if (in->d->nsamples) {
		for (size_t g = 0; g < NPROC_GAUGES; g++)
			proc_family(f, in, &proc_gauges[g]);
		tree_families(f, in);
	}
	fputs("# EOF\n", f);
}
