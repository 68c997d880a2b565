/* kmsg.c - OOM kills from the kernel log (/dev/kmsg) */
#include "collectors/kmsg.h"
#include "collectors/textscan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

void kmsg_oom_release(struct kmsg_oom *o)
{
	free(o->comm);
	free(o->constraint);
	free(o->oom_memcg);
	free(o->task_memcg);
	o->comm = o->constraint = o->oom_memcg = o->task_memcg = NULL;
}

/* Parse the unsigned decimal at s (len bytes); returns the number of digits
 * read (0 if none). */
static size_t parse_u64(const char *s, size_t len, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9' && *v < UINT64_MAX / 10 - 10)
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	return i;
}

/* The value of "KEY:NUMBER" (kill line) after the marker key in the text,
 * or -1. Accepts a kB suffix. */
static int64_t num_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p)
		return -1;
	p += strlen(key);
	int neg = *p == '-';
	uint64_t v;
	size_t n = parse_u64(p + neg, strlen(p + neg), &v);
	if (!n || v > INT64_MAX)
		return -1;
	return neg ? -(int64_t)v : (int64_t)v;
}

/* "...: Killed process PID (COMM) total-vm:..." */
static int parse_killed(const char *text, struct kmsg_oom *o)
{
	const char *k = strstr(text, ": Killed process ");
	if (!k)
		return 0;
	o->kind = KMSG_OOM_KILLED;
	o->memcg = strncmp(text, "Memory cgroup out of memory", 27) == 0;
	const char *p = k + strlen(": Killed process ");
	uint64_t pid;
	size_t n = parse_u64(p, strlen(p), &pid);
	if (!n || pid > INT32_MAX || strncmp(p + n, " (", 2) != 0)
		return 0;
	o->pid = (int)pid;
	p += n + 2;
	/* the comm may hold ") ": the last ") total-vm:" ends it */
	const char *end = strstr(p, ") total-vm:");
	if (!end)
		return 0;
	for (const char *q; (q = strstr(end + 1, ") total-vm:")); )
		end = q;
	o->comm = textscan_strndup(p, (size_t)(end - p));
	const char *rest = end + 1;
	o->total_vm_kb = num_after(rest, "total-vm:");
	o->anon_rss_kb = num_after(rest, "anon-rss:");
	o->file_rss_kb = num_after(rest, "file-rss:");
	o->shmem_rss_kb = num_after(rest, "shmem-rss:");
	o->uid = num_after(rest, "UID:");
	o->pgtables_kb = num_after(rest, "pgtables:");
	int64_t adj = num_after(rest, "oom_score_adj:");
	o->oom_score_adj = adj < -1000 || adj > 1000 ? 0 : (int)adj;
	return 1;
}

/* The keys of the oom-kill line, in the order the kernel prints them. A
 * value runs to the next ",KEY=" of a later key, so commas in cgroup paths
 * do not cut it; task, pid and uid (the line's end) are found from the
 * right, so a comm holding ",pid=" does not either. */
static const char *const context_keys[] = {
	"constraint", "nodemask", "cpuset", "mems_allowed", "oom_memcg",
	"task_memcg", "task", "pid", "uid",
};
#define NKEYS (sizeof(context_keys) / sizeof(context_keys[0]))
#define FIRST_FROM_RIGHT 6

/* The last occurrence of needle in [s, end), or NULL. */
static const char *rfind(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t at = (size_t)(end - s); at >= n; at--)
		if (memcmp(s + at - n, needle, n) == 0)
			return s + at - n;
	return NULL;
}

/* Find where each key's marker starts (mark[i]) and its value (val[i]). */
static void find_keys(const char *body, const char *mark[NKEYS], const char *val[NKEYS])
{
	char m[32];
	const char *limit = body + strlen(body);
	for (size_t i = NKEYS; i-- > FIRST_FROM_RIGHT; ) {
		snprintf(m, sizeof(m), ",%s=", context_keys[i]);
		mark[i] = rfind(body, limit, m);
		if (mark[i]) {
			val[i] = mark[i] + strlen(m);
			limit = mark[i];
		}
	}
	const char *from = body;
	for (size_t i = 0; i < FIRST_FROM_RIGHT; i++) {
		snprintf(m, sizeof(m), "%s%s=", i ? "," : "", context_keys[i]);
		const char *p = i == 0 ? (strncmp(body, m, strlen(m)) == 0 ? body : NULL)
				       : strstr(from, m);
		if (!p || p >= limit)
			continue;
		mark[i] = p;
		val[i] = from = p + strlen(m);
	}
}

static int parse_context(const char *text, struct kmsg_oom *o)
{
	if (strncmp(text, "oom-kill:", 9) != 0)
		return 0;
	o->kind = KMSG_OOM_CONTEXT;
	const char *body = text + 9;
	const char *mark[NKEYS] = { 0 }, *vals[NKEYS] = { 0 };
	size_t lens[NKEYS] = { 0 };
	find_keys(body, mark, vals);
	for (size_t i = 0; i < NKEYS; i++) {
		if (!vals[i])
			continue;
		const char *end = vals[i] + strlen(vals[i]);
		for (size_t j = i + 1; j < NKEYS; j++)
			if (mark[j]) {
				end = mark[j];
				break;
			}
		if (end < vals[i]) {
			vals[i] = NULL;
			continue;
		}
		lens[i] = (size_t)(end - vals[i]);
	}
	uint64_t pid;
	if (!vals[7] || !lens[7] || parse_u64(vals[7], lens[7], &pid) != lens[7] ||
	    pid > INT32_MAX)
		return 0;
	o->pid = (int)pid;
	if (vals[0])
		o->constraint = textscan_strndup(vals[0], lens[0]);
	if (vals[4])
		o->oom_memcg = textscan_strndup(vals[4], lens[4]);
	if (vals[5])
		o->task_memcg = textscan_strndup(vals[5], lens[5]);
	if (vals[6])
		o->comm = textscan_strndup(vals[6], lens[6]);
	uint64_t uid;
	if (vals[8] && lens[8] && parse_u64(vals[8], lens[8], &uid) == lens[8])
		o->uid = (int64_t)uid;
	return 1;
}

int kmsg_parse_record(const char *rec, size_t len, struct kmsg_oom *out)
{
	memset(out, 0, sizeof(*out));
	out->total_vm_kb = out->anon_rss_kb = out->file_rss_kb = -1;
	out->shmem_rss_kb = out->pgtables_kb = out->uid = -1;
	const char *semi = memchr(rec, ';', len);
	if (!semi)
		return -EINVAL;
	/* header: prio,seq,ts_us,flags[,...] */
	uint64_t prio, v[2];
	const char *p = rec;
	size_t hl = (size_t)(semi - rec), n = parse_u64(p, hl, &prio);
	if (!n)
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		if (n >= hl || p[n] != ',')
			return -EINVAL;
		p += n + 1;
		hl -= n + 1;
		n = parse_u64(p, hl, &v[i]);
		if (!n)
			return -EINVAL;
	}
	out->seq = v[0];
	out->ts_us = v[1];
	const char *text = semi + 1;
	const char *nl = memchr(text, '\n', len - (size_t)(text - rec));
	size_t tl = nl ? (size_t)(nl - text) : len - (size_t)(text - rec);
	if (memchr(text, '\0', tl))
		tl = strlen(text);
	char *line = textscan_strndup(text, tl);
	int r = parse_killed(line, out);
	if (r == 0)
		r = parse_context(line, out);
	free(line);
	if (r != 1) {
		kmsg_oom_release(out);
		uint64_t seq = out->seq, ts = out->ts_us;
		memset(out, 0, sizeof(*out));
		out->seq = seq;
		out->ts_us = ts;
		return 0;
	}
	return 1;
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int kmsg_read(int fd, struct kmsg_oom *out, size_t max)
{
	/* a kmsg read returns one whole record, at most CONSOLE_EXT_LOG_MAX
	 * (8 KiB) long; EINVAL means the buffer was too small: grow it */
	size_t cap = 8192;
	char *buf = xmalloc(cap);
	int n = 0;
	while ((size_t)n < max) {
		ssize_t r = read(fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPIPE)
			continue;  /* overwritten before we read them */
		if (r < 0 && errno == EINVAL && cap < (1 << 20)) {
			cap *= 2;
			buf = xrealloc(buf, cap);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			n = n ? n : -errno;
			break;
		}
		if (r == 0)
			break;
		if (kmsg_parse_record(buf, (size_t)r, &out[n]) == 1)
			n++;
	}
	free(buf);
	return n;
}
