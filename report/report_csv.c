/* report_csv.c - a recorded session as CSV: one row per process per sample */
#include "common/util.h"
#include "report/report.h"

#include <inttypes.h>
#include <stdlib.h>

static void header(FILE *f)
{
	fputs("time,offset_s,pid,ppid,role,state,rss_kb,pss_kb,uss_kb,swap_kb,"
	      "anon_kb,shmem_kb,file_kb,shared_with_parent_kb,copied_kb,new_kb,"
	      "shared_anywhere_kb,cmd\n", f);
}

static void row(FILE *f, const struct report_input *in, size_t i,
		const struct session_point *pt)
{
	const struct session_process *p = &in->d->procs[i];
	const struct cow_figures *g = &pt->fig;
	double t = in->d->samples[pt->sample].t;
	char state[2] = { pt->state, 0 };
	fprintf(f, "%.3f,%.3f,%d,%d,%s,", t, t - in->a->start_time, p->pid,
		p->ppid, analysis_role_name(in->a->procs[i].role));
	report_put_csv(f, state);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",", g->rss_kb, g->pss_kb, g->uss_kb, g->swap_kb,
		g->anon_kb, g->shmem_kb, g->file_kb, g->shared_with_parent_kb,
		g->copied_kb, g->new_kb, g->shared_anywhere_kb);
	report_put_csv(f, p->cmd);
	fputc('\n', f);
}

void report_csv(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	/* next[i]: the next point of process i to write; points are in sample
	 * order, so one pass over the samples visits each once */
	size_t *next = xcalloc(d->nprocs + 1, sizeof(*next));
	header(f);
	for (size_t k = 0; k < d->nsamples; k++) {
		for (size_t o = 0; o < d->nprocs; o++) {
			size_t i = in->a->order[o];
			const struct session_process *p = &d->procs[i];
			if (next[i] < p->npoints && p->points[next[i]].sample == k)
				row(f, in, i, &p->points[next[i]++]);
		}
	}
	free(next);
}
