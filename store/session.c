/* session.c - the session file: one SQLite database per recording */
#include "store/session.h"
#include "common/format.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Added in version 2: fault attribution, wait states, signals, OOM kills. */
#define SCHEMA_V2 \
	"CREATE TABLE frames (id INTEGER PRIMARY KEY, python INTEGER NOT NULL," \
	" function TEXT NOT NULL, module TEXT NOT NULL, offset INTEGER NOT NULL," \
	" source TEXT NOT NULL, line INTEGER NOT NULL," \
	" UNIQUE (python, function, module, offset, source, line));" \
	"CREATE TABLE stacks (id INTEGER PRIMARY KEY, frame_ids TEXT NOT NULL UNIQUE);" \
	"CREATE TABLE faults (id INTEGER PRIMARY KEY," \
	" process_id INTEGER NOT NULL REFERENCES processes(id), t REAL NOT NULL," \
	" tid INTEGER NOT NULL, addr INTEGER NOT NULL," \
	" region_id INTEGER REFERENCES regions(id)," \
	" native_stack_id INTEGER REFERENCES stacks(id)," \
	" python_stack_id INTEGER REFERENCES stacks(id)," \
	" weight INTEGER NOT NULL DEFAULT 1);" \
	"CREATE TABLE fault_sources (process_id INTEGER PRIMARY KEY" \
	" REFERENCES processes(id), method TEXT NOT NULL, events INTEGER NOT NULL," \
	" dropped INTEGER NOT NULL, python_status TEXT NOT NULL);" \
	"CREATE TABLE proc_waits (process_id INTEGER NOT NULL," \
	" sample_id INTEGER NOT NULL, state TEXT NOT NULL, cpu_s REAL NOT NULL," \
	" wchan TEXT NOT NULL, syscall TEXT NOT NULL, blocked_on TEXT NOT NULL," \
	" python TEXT NOT NULL DEFAULT ''," \
	" PRIMARY KEY (process_id, sample_id)) WITHOUT ROWID;" \
	"CREATE TABLE signals (id INTEGER PRIMARY KEY, t REAL NOT NULL," \
	" process_id INTEGER REFERENCES processes(id), pid INTEGER NOT NULL," \
	" signal INTEGER NOT NULL, code INTEGER NOT NULL," \
	" sender_pid INTEGER NOT NULL, sender_cmd TEXT NOT NULL," \
	" sender_process_id INTEGER REFERENCES processes(id)," \
	" sender_exiting INTEGER NOT NULL, result TEXT NOT NULL);" \
	"CREATE TABLE oom_kills (id INTEGER PRIMARY KEY, t REAL NOT NULL," \
	" process_id INTEGER REFERENCES processes(id), pid INTEGER NOT NULL," \
	" total_vm_kb INTEGER NOT NULL, anon_rss_kb INTEGER NOT NULL," \
	" file_rss_kb INTEGER NOT NULL, shmem_rss_kb INTEGER NOT NULL," \
	" cgroup TEXT NOT NULL);"

static const char schema[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE samples (id INTEGER PRIMARY KEY, t REAL NOT NULL,"
	" duration_s REAL NOT NULL, processes INTEGER NOT NULL,"
	" rss_kb INTEGER NOT NULL, pss_kb INTEGER NOT NULL,"
	" uss_kb INTEGER NOT NULL, swap_kb INTEGER NOT NULL,"
	" unique_kb INTEGER NOT NULL);"
	"CREATE TABLE processes (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,"
	" ppid INTEGER NOT NULL, parent_id INTEGER REFERENCES processes(id),"
	" start_ticks INTEGER NOT NULL, fork_time REAL, exit_time REAL,"
	" exit_code INTEGER, exit_signal INTEGER, cmd TEXT NOT NULL,"
	" UNIQUE (pid, start_ticks));"
	"CREATE TABLE proc_samples (process_id INTEGER NOT NULL,"
	" sample_id INTEGER NOT NULL, state TEXT NOT NULL,"
	" rss_kb INTEGER, pss_kb INTEGER, uss_kb INTEGER, swap_kb INTEGER,"
	" anon_kb INTEGER, shmem_kb INTEGER, file_kb INTEGER,"
	" shared_with_parent_kb INTEGER, copied_kb INTEGER, new_kb INTEGER,"
	" shared_anywhere_kb INTEGER,"
	" PRIMARY KEY (process_id, sample_id)) WITHOUT ROWID;"
	"CREATE TABLE regions (id INTEGER PRIMARY KEY,"
	" process_id INTEGER NOT NULL REFERENCES processes(id),"
	" start INTEGER NOT NULL, end INTEGER NOT NULL, perms TEXT NOT NULL,"
	" kind TEXT NOT NULL, path TEXT NOT NULL);"
	"CREATE TABLE region_samples (region_id INTEGER NOT NULL,"
	" sample_id INTEGER NOT NULL, rss_kb INTEGER, anon_kb INTEGER,"
	" shared_with_parent_kb INTEGER, copied_kb INTEGER, new_kb INTEGER,"
	" PRIMARY KEY (region_id, sample_id)) WITHOUT ROWID;"
	"CREATE TABLE events (id INTEGER PRIMARY KEY, t REAL NOT NULL,"
	" process_id INTEGER REFERENCES processes(id), pid INTEGER,"
	" kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX events_t ON events(t);"
	SCHEMA_V2;


enum stmt {
	ST_META, ST_SAMPLE, ST_PROC_FIND, ST_PROC_ADD, ST_PROC_SAMPLE,
	ST_REGION_ADD, ST_REGION_SAMPLE, ST_EXIT, ST_EVENT,
	ST_FRAME_ADD, ST_FRAME_FIND, ST_STACK_ADD, ST_STACK_FIND, ST_FAULT,
	ST_FAULT_SOURCE, ST_WAIT, ST_SIGNAL, ST_OOM, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
	[ST_SAMPLE] = "INSERT INTO samples (t, duration_s, processes, rss_kb,"
		      " pss_kb, uss_kb, swap_kb, unique_kb)"
		      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_PROC_FIND] = "SELECT id FROM processes WHERE pid = ? AND start_ticks = ?",
	[ST_PROC_ADD] = "INSERT INTO processes (pid, ppid, parent_id, start_ticks,"
			" fork_time, cmd) VALUES (?, ?, ?, ?, ?, ?)",
	[ST_PROC_SAMPLE] = "INSERT OR REPLACE INTO proc_samples VALUES"
			   " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_REGION_ADD] = "INSERT INTO regions (process_id, start, end, perms,"
			  " kind, path) VALUES (?, ?, ?, ?, ?, ?)",
	[ST_REGION_SAMPLE] = "INSERT OR REPLACE INTO region_samples VALUES"
			     " (?, ?, ?, ?, ?, ?, ?)",
	[ST_EXIT] = "UPDATE processes SET exit_time = ?, exit_code = ?,"
		    " exit_signal = ? WHERE id = ?",
	[ST_EVENT] = "INSERT INTO events (t, process_id, pid, kind, detail)"
		     " VALUES (?, ?, ?, ?, ?)",
	[ST_FRAME_ADD] = "INSERT OR IGNORE INTO frames (python, function, module,"
			 " offset, source, line) VALUES (?, ?, ?, ?, ?, ?)",
	[ST_FRAME_FIND] = "SELECT id FROM frames WHERE python = ? AND function = ?"
			  " AND module = ? AND offset = ? AND source = ? AND line = ?",
	[ST_STACK_ADD] = "INSERT OR IGNORE INTO stacks (frame_ids) VALUES (?)",
	[ST_STACK_FIND] = "SELECT id FROM stacks WHERE frame_ids = ?",
	[ST_FAULT] = "INSERT INTO faults (process_id, t, tid, addr, region_id,"
		     " native_stack_id, python_stack_id, weight)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_FAULT_SOURCE] = "INSERT OR REPLACE INTO fault_sources VALUES (?, ?, ?, ?, ?)",
	[ST_WAIT] = "INSERT OR REPLACE INTO proc_waits VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_SIGNAL] = "INSERT INTO signals (t, process_id, pid, signal, code,"
		      " sender_pid, sender_cmd, sender_process_id, sender_exiting,"
		      " result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_OOM] = "INSERT INTO oom_kills (t, process_id, pid, total_vm_kb,"
		   " anon_rss_kb, file_rss_kb, shmem_rss_kb, cgroup)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
};

struct session {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	bool in_tx;
};

/* An SQLite result as -errno: a full disk (or quota) is told apart, the
 * rest is an I/O error. */
static int sql_errno(int rc)
{
	return rc == SQLITE_FULL ? -ENOSPC : -EIO;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sql_errno(rc);
}

static int prepare_all(struct session *s)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK)
			return -EIO;
	return 0;
}

void session_close(struct session *s)
{
	if (!s)
		return;
	if (s->in_tx)
		exec_sql(s->db, "COMMIT");
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	/* A finished session is one plain file: its log folded in and gone,
	 * so it reads without write access to its folder. A reader (view
	 * following the recording) is waited for a moment; one that stays
	 * keeps the file in WAL mode, whole with its -wal beside it. */
	sqlite3_busy_timeout(s->db, 3000);
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				      NULL, NULL) == SQLITE_OK)
		exec_sql(s->db, "PRAGMA journal_mode = DELETE");
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* Write the schema into a new file at tmp (rollback journal, closed).
 * Owner-only: a session holds command lines, and with them what secrets
 * they carry; SQLite gives its -wal and -shm files the same mode. */
static int write_schema(const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	sqlite3 *db = NULL;
	char buf[32];
	snprintf(buf, sizeof(buf), "PRAGMA user_version = %d", SESSION_SCHEMA_VERSION);
	int r = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK ?
		0 : -EIO;
	if (r == 0)
		r = exec_sql(db, schema);
	if (r == 0)
		r = exec_sql(db, buf);
	sqlite3_close(db);
	return r;
}

/* The folder path is in (caller frees). */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path);
}

/* A recorder killed while it made path left path.new-PID (and its
 * -journal): remove those whose cowprof is gone. */
static void remove_stale_new(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = folder_of(path);
	char *prefix = xasprintf("%s.new-", slash ? slash + 1 : path);
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		if (strncmp(de->d_name, prefix, plen))
			continue;
		long pid = strtol(de->d_name + plen, &end, 10);
		if (pid <= 0 || pid == getpid() || (*end && strcmp(end, "-journal")) ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
}

/* The file appears under its name only once it holds the whole schema, so
 * a reader (view following a recording) never sees a half-made session:
 * built beside it, then link()ed, which also refuses an existing file. */
static int create_file(const char *path)
{
	remove_stale_new(path);
	char *tmp = xasprintf("%s.new-%d", path, (int)getpid());
	int r = write_schema(tmp);
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	/* a filesystem without hard links: rename, checking first */
	if ((r == -EPERM || r == -ENOTSUP) && access(path, F_OK) == 0)
		r = -EEXIST;
	else if ((r == -EPERM || r == -ENOTSUP) && rename(tmp, path) == 0)
		r = 0;
	unlink(tmp);
	free(tmp);
	return r;
}

int session_create(const char *path, struct session **out, char *err,
		   size_t errlen)
{
	int r = create_file(path);
	if (r == -EIO)
		return format_error(err, errlen, r, "%s: cannot create the session",
				    path);
	if (r < 0)
		return format_error(err, errlen, r, "%s: %s", path, strerror(-r));
	struct session *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		r = -EIO;
	if (r == 0)
		r = exec_sql(s->db, "PRAGMA journal_mode = WAL");
	/* NORMAL in WAL mode: a crash of the recorder never loses committed
	 * samples; only a power loss may lose the last ones. */
	if (r == 0)
		r = exec_sql(s->db, "PRAGMA synchronous = NORMAL");
	if (r == 0)
		r = prepare_all(s);
	if (r < 0) {
		format_error(err, errlen, r, "%s: cannot create the session: %s", path,
			     s->db ? sqlite3_errmsg(s->db) : "out of memory");
		session_close(s);
		unlink(path);
		return r;
	}
	*out = s;
	return 0;
}

/* Run a prepared insert/update; returns 0 or -EIO. */
static int step(struct session *s, enum stmt i)
{
	int rc = sqlite3_step(s->st[i]);
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_errno(rc);
}

static void bind_text(sqlite3_stmt *st, int col, const char *v)
{
	sqlite3_bind_text(st, col, v, -1, SQLITE_TRANSIENT);
}

int session_set_meta(struct session *s, const char *key, const char *value)
{
	bind_text(s->st[ST_META], 1, key);
	bind_text(s->st[ST_META], 2, value);
	return step(s, ST_META);
}

int session_begin(struct session *s)
{
	if (!s->in_tx && exec_sql(s->db, "BEGIN") < 0)
		return -EIO;
	s->in_tx = true;
	return 0;
}

int session_begin_sample(struct session *s, double t, double duration_s,
			 const struct cow_tree_figures *tree, size_t nprocs,
			 int64_t *sample_id)
{
	if (session_begin(s) < 0)
		return -EIO;
	sqlite3_stmt *st = s->st[ST_SAMPLE];
	sqlite3_bind_double(st, 1, t);
	sqlite3_bind_double(st, 2, duration_s);
	sqlite3_bind_int64(st, 3, (int64_t)nprocs);
	sqlite3_bind_int64(st, 4, (int64_t)tree->rss_kb);
	sqlite3_bind_int64(st, 5, (int64_t)tree->pss_kb);
	sqlite3_bind_int64(st, 6, (int64_t)tree->uss_kb);
	sqlite3_bind_int64(st, 7, (int64_t)tree->swap_kb);
	sqlite3_bind_int64(st, 8, (int64_t)tree->unique_kb);
	int r = step(s, ST_SAMPLE);
	*sample_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int session_end_sample(struct session *s)
{
	if (!s->in_tx)
		return 0;
	s->in_tx = false;
	return exec_sql(s->db, "COMMIT");
}

int session_add_process(struct session *s, const struct sink_proc *p,
			int64_t *id)
{
	sqlite3_stmt *f = s->st[ST_PROC_FIND];
	sqlite3_bind_int(f, 1, p->pid);
	sqlite3_bind_int64(f, 2, (int64_t)p->start_ticks);
	int rc = sqlite3_step(f);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(f, 0);
	sqlite3_reset(f);
	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_stmt *st = s->st[ST_PROC_ADD];
	sqlite3_bind_int(st, 1, p->pid);
	sqlite3_bind_int(st, 2, p->ppid);
	if (p->parent_id > 0)
		sqlite3_bind_int64(st, 3, p->parent_id);
	sqlite3_bind_int64(st, 4, (int64_t)p->start_ticks);
	sqlite3_bind_double(st, 5, p->fork_time);
	bind_text(st, 6, p->cmd);
	int r = step(s, ST_PROC_ADD);
	*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int session_add_proc_sample(struct session *s, int64_t sample_id,
			    int64_t process_id, char state,
			    const struct cow_figures *f)
{
	sqlite3_stmt *st = s->st[ST_PROC_SAMPLE];
	char sst[2] = { state ? state : '?', 0 };
	sqlite3_bind_int64(st, 1, process_id);
	sqlite3_bind_int64(st, 2, sample_id);
	bind_text(st, 3, sst);
	const uint64_t v[] = { f->rss_kb, f->pss_kb, f->uss_kb, f->swap_kb,
			       f->anon_kb, f->shmem_kb, f->file_kb,
			       f->shared_with_parent_kb, f->copied_kb, f->new_kb,
			       f->shared_anywhere_kb };
	for (int i = 0; i < 11; i++)
		sqlite3_bind_int64(st, 4 + i, (int64_t)v[i]);
	return step(s, ST_PROC_SAMPLE);
}

int session_add_region(struct session *s, int64_t process_id, uint64_t start,
		       uint64_t end, const char *perms, const char *kind,
		       const char *path, int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_REGION_ADD];
	sqlite3_bind_int64(st, 1, process_id);
	sqlite3_bind_int64(st, 2, (int64_t)start);
	sqlite3_bind_int64(st, 3, (int64_t)end);
	bind_text(st, 4, perms);
	bind_text(st, 5, kind);
	bind_text(st, 6, path);
	int r = step(s, ST_REGION_ADD);
	*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int session_add_region_sample(struct session *s, int64_t sample_id,
			      int64_t region_id, const struct cow_figures *f)
{
	sqlite3_stmt *st = s->st[ST_REGION_SAMPLE];
	sqlite3_bind_int64(st, 1, region_id);
	sqlite3_bind_int64(st, 2, sample_id);
	sqlite3_bind_int64(st, 3, (int64_t)f->rss_kb);
	sqlite3_bind_int64(st, 4, (int64_t)f->anon_kb);
	sqlite3_bind_int64(st, 5, (int64_t)f->shared_with_parent_kb);
	sqlite3_bind_int64(st, 6, (int64_t)f->copied_kb);
	sqlite3_bind_int64(st, 7, (int64_t)f->new_kb);
	return step(s, ST_REGION_SAMPLE);
}

int session_set_exit(struct session *s, int64_t process_id, double t,
		     int exit_code, int signal)
{
	sqlite3_stmt *st = s->st[ST_EXIT];
	sqlite3_bind_double(st, 1, t);
	if (exit_code >= 0)
		sqlite3_bind_int(st, 2, exit_code);
	if (signal >= 0)
		sqlite3_bind_int(st, 3, signal);
	sqlite3_bind_int64(st, 4, process_id);
	return step(s, ST_EXIT);
}

int session_add_event(struct session *s, double t, int64_t process_id, int pid,
		      const char *kind, const char *detail)
{
	sqlite3_stmt *st = s->st[ST_EVENT];
	sqlite3_bind_double(st, 1, t);
	if (process_id > 0)
		sqlite3_bind_int64(st, 2, process_id);
	sqlite3_bind_int(st, 3, pid);
	bind_text(st, 4, kind);
	bind_text(st, 5, detail ? detail : "");
	return step(s, ST_EVENT);
}

/* Bind an int64 id, or NULL when it is 0 (none). */
static void bind_id(sqlite3_stmt *st, int col, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, col, id);
	else
		sqlite3_bind_null(st, col);
}

/* Run a lookup that returns one id, or 0 when there is no row. */
static int find_id(struct session *s, enum stmt i, int64_t *id)
{
	int rc = sqlite3_step(s->st[i]);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s->st[i], 0) : 0;
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static void bind_frame(sqlite3_stmt *st, const struct sink_frame *f)
{
	sqlite3_bind_int(st, 1, f->python);
	bind_text(st, 2, f->function ? f->function : "");
	bind_text(st, 3, f->module ? f->module : "");
	sqlite3_bind_int64(st, 4, (int64_t)f->offset);
	bind_text(st, 5, f->source ? f->source : "");
	sqlite3_bind_int(st, 6, f->line);
}

int session_add_frame(struct session *s, const struct sink_frame *f,
		      int64_t *id)
{
	bind_frame(s->st[ST_FRAME_ADD], f);
	int r = step(s, ST_FRAME_ADD);
	if (r < 0)
		return r;
	bind_frame(s->st[ST_FRAME_FIND], f);
	r = find_id(s, ST_FRAME_FIND, id);
	return r == 0 && *id == 0 ? -EIO : r;
}

int session_add_stack(struct session *s, const int64_t *frame_ids, size_t n,
		      int64_t *id)
{
	*id = 0;
	if (n == 0)
		return 0;
	char *key = xmalloc(n * 21 + 1), *p = key;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, i ? ",%lld" : "%lld", (long long)frame_ids[i]);
	bind_text(s->st[ST_STACK_ADD], 1, key);
	int r = step(s, ST_STACK_ADD);
	if (r == 0) {
		bind_text(s->st[ST_STACK_FIND], 1, key);
		r = find_id(s, ST_STACK_FIND, id);
	}
	free(key);
	return r == 0 && *id == 0 ? -EIO : r;
}

int session_add_fault(struct session *s, int64_t process_id, double t, int tid,
		      uint64_t addr, int64_t region_id, int64_t native_stack_id,
		      int64_t python_stack_id, uint64_t weight)
{
	sqlite3_stmt *st = s->st[ST_FAULT];
	sqlite3_bind_int64(st, 1, process_id);
	sqlite3_bind_double(st, 2, t);
	sqlite3_bind_int(st, 3, tid);
	sqlite3_bind_int64(st, 4, (int64_t)addr);
	bind_id(st, 5, region_id);
	bind_id(st, 6, native_stack_id);
	bind_id(st, 7, python_stack_id);
	sqlite3_bind_int64(st, 8, (int64_t)(weight ? weight : 1));
	return step(s, ST_FAULT);
}

int session_set_fault_source(struct session *s, int64_t process_id,
			     const char *method, uint64_t events,
			     uint64_t dropped, const char *python_status)
{
	sqlite3_stmt *st = s->st[ST_FAULT_SOURCE];
	sqlite3_bind_int64(st, 1, process_id);
	bind_text(st, 2, method);
	sqlite3_bind_int64(st, 3, (int64_t)events);
	sqlite3_bind_int64(st, 4, (int64_t)dropped);
	bind_text(st, 5, python_status ? python_status : "");
	return step(s, ST_FAULT_SOURCE);
}

int session_add_wait(struct session *s, int64_t sample_id, int64_t process_id,
		     const struct sink_wait *w)
{
	sqlite3_stmt *st = s->st[ST_WAIT];
	char state[2] = { w->state ? w->state : '?', 0 };
	sqlite3_bind_int64(st, 1, process_id);
	sqlite3_bind_int64(st, 2, sample_id);
	bind_text(st, 3, state);
	sqlite3_bind_double(st, 4, w->cpu_s);
	bind_text(st, 5, w->wchan ? w->wchan : "");
	bind_text(st, 6, w->syscall ? w->syscall : "");
	bind_text(st, 7, w->blocked_on ? w->blocked_on : "");
	bind_text(st, 8, w->python ? w->python : "");
	return step(s, ST_WAIT);
}

int session_add_signal(struct session *s, const struct sink_signal *g)
{
	sqlite3_stmt *st = s->st[ST_SIGNAL];
	sqlite3_bind_double(st, 1, g->t);
	bind_id(st, 2, g->process_id);
	sqlite3_bind_int(st, 3, g->pid);
	sqlite3_bind_int(st, 4, g->signal);
	sqlite3_bind_int(st, 5, g->code);
	sqlite3_bind_int(st, 6, g->sender_pid);
	bind_text(st, 7, g->sender_cmd ? g->sender_cmd : "");
	bind_id(st, 8, g->sender_process_id);
	sqlite3_bind_int(st, 9, g->sender_exiting);
	bind_text(st, 10, g->result ? g->result : "");
	return step(s, ST_SIGNAL);
}

int session_add_oom(struct session *s, const struct sink_oom *o)
{
	sqlite3_stmt *st = s->st[ST_OOM];
	sqlite3_bind_double(st, 1, o->t);
	bind_id(st, 2, o->process_id);
	sqlite3_bind_int(st, 3, o->pid);
	sqlite3_bind_int64(st, 4, (int64_t)o->total_vm_kb);
	sqlite3_bind_int64(st, 5, (int64_t)o->anon_rss_kb);
	sqlite3_bind_int64(st, 6, (int64_t)o->file_rss_kb);
	sqlite3_bind_int64(st, 7, (int64_t)o->shmem_rss_kb);
	bind_text(st, 8, o->cgroup ? o->cgroup : "");
	return step(s, ST_OOM);
}

static uint64_t size_of(const char *path, const char *suffix)
{
	char *p = NULL;
	struct stat st;
	if (asprintf(&p, "%s%s", path, suffix) < 0)
		return 0;
	uint64_t n = stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
	free(p);
	return n;
}

uint64_t session_file_size(const struct session *s)
{
	return size_of(s->path, "") + size_of(s->path, "-wal");
}

/* ---- reading ---- */

struct loader {
	sqlite3 *db;
	struct session_data *d;
	char bad[160];           /* why a row is not a valid session's ("" if none) */
	/* rows come ordered by process, then sample: the last ones found
	 * (-1 before the first) */
	int64_t last_proc_id;
	int last_proc;
	ssize_t last_sample;
};

/* Room for one more row in an array of n: capacities are powers of two,
 * so loading is linear (a realloc per row made crafted files quadratic). */
static void *grow_rows(void *v, size_t n, size_t elem)
{
	if (n == 0 || (n & (n - 1)) == 0)
		v = xrealloc(v, (n ? 2 * n : 1) * elem);
	return v;
}

/* Times a session holds are seconds since the epoch: finite, after 1970 and
 * before 2286. Larger ones (1e300) would make charts loop for ever. */
#define SESSION_T_MAX 1e10

static bool bad_time(struct loader *l, double t, const char *what, int64_t id)
{
	if (isfinite(t) && t >= 0 && t < SESSION_T_MAX)
		return false;
	snprintf(l->bad, sizeof(l->bad), "%s %lld has time %g", what, (long long)id, t);
	return true;
}

/* Sizes are kB, stored as SQLite integers: a negative one is no size. */
static bool bad_sizes(struct loader *l, sqlite3_stmt *st, int first, int n,
		      const char *what, int64_t id)
{
	for (int i = first; i < first + n; i++)
		if (sqlite3_column_int64(st, i) < 0) {
			snprintf(l->bad, sizeof(l->bad), "%s %lld has a negative size "
				 "(%lld kB)", what, (long long)id,
				 (long long)sqlite3_column_int64(st, i));
			return true;
		}
	return false;
}

static char *col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return xstrdup(t ? (const char *)t : "");
}

static int query(struct loader *l, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(l->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EINVAL;
}

/* Step through a query's rows, calling row() for each. */
static int each_row(struct loader *l, const char *sql,
		    int (*row)(struct loader *, sqlite3_stmt *))
{
	sqlite3_stmt *st;
	if (query(l, sql, &st) < 0)
		return -EINVAL;
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = row(l, st);
	if (r == 0 && rc != SQLITE_DONE)
		r = -EINVAL;
	sqlite3_finalize(st);
	return r;
}

static int meta_row(struct loader *l, sqlite3_stmt *st)
{
	struct session_data *d = l->d;
	d->meta = grow_rows(d->meta, d->nmeta, sizeof(*d->meta));
	d->meta[d->nmeta].key = col_text(st, 0);
	d->meta[d->nmeta++].value = col_text(st, 1);
	return 0;
}

static int sample_row(struct loader *l, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 0);
	double dur = sqlite3_column_double(st, 2);
	if (bad_time(l, sqlite3_column_double(st, 1), "sample", id) ||
	    bad_sizes(l, st, 3, 6, "sample", id))
		return -EINVAL;
	if (!isfinite(dur) || dur < 0 || dur > SESSION_T_MAX) {
		snprintf(l->bad, sizeof(l->bad), "sample %lld took %g s", (long long)id, dur);
		return -EINVAL;
	}
	struct session_data *d = l->d;
	d->samples = grow_rows(d->samples, d->nsamples, sizeof(*d->samples));
	struct session_sample *s = &d->samples[d->nsamples++];
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->t = sqlite3_column_double(st, 1);
	s->duration_s = sqlite3_column_double(st, 2);
	s->nprocs = (size_t)sqlite3_column_int64(st, 3);
	s->tree.rss_kb = (uint64_t)sqlite3_column_int64(st, 4);
	s->tree.pss_kb = (uint64_t)sqlite3_column_int64(st, 5);
	s->tree.uss_kb = (uint64_t)sqlite3_column_int64(st, 6);
	s->tree.swap_kb = (uint64_t)sqlite3_column_int64(st, 7);
	s->tree.unique_kb = (uint64_t)sqlite3_column_int64(st, 8);
	return 0;
}

static int int_or(sqlite3_stmt *st, int col, int dflt)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? dflt
							    : sqlite3_column_int(st, col);
}

static int proc_row(struct loader *l, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, 0);
	if (bad_time(l, sqlite3_column_double(st, 5), "process", id) ||
	    bad_time(l, sqlite3_column_double(st, 6), "process", id))
		return -EINVAL;
	struct session_data *d = l->d;
	d->procs = grow_rows(d->procs, d->nprocs, sizeof(*d->procs));
	struct session_process *p = &d->procs[d->nprocs++];
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	p->pid = sqlite3_column_int(st, 1);
	p->ppid = sqlite3_column_int(st, 2);
	/* parent index resolved after all rows: keep the id for now */
	p->parent = (int)sqlite3_column_int64(st, 3);
	p->start_ticks = (uint64_t)sqlite3_column_int64(st, 4);
	p->fork_time = sqlite3_column_double(st, 5);
	p->exit_time = sqlite3_column_double(st, 6);
	p->exit_code = int_or(st, 7, -1);
	p->exit_signal = int_or(st, 8, -1);
	p->cmd = col_text(st, 9);
	return 0;
}

/* Index of the element whose int64_t id (at byte offset off in elements
 * of size bytes, sorted by it) is id, or -1. */
static ssize_t find_by_id(const void *base, size_t n, size_t size, size_t off,
			  int64_t id)
{
	const char *b = base;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t v;
		memcpy(&v, b + mid * size + off, sizeof(v));
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	int64_t v = 0;
	if (lo < n)
		memcpy(&v, b + lo * size + off, sizeof(v));
	return lo < n && v == id ? (ssize_t)lo : -1;
}

static int find_proc(const struct session_data *d, int64_t id)
{
	return (int)find_by_id(d->procs, d->nprocs, sizeof(*d->procs),
			       offsetof(struct session_process, id), id);
}

static ssize_t find_sample(const struct session_data *d, int64_t id)
{
	return find_by_id(d->samples, d->nsamples, sizeof(*d->samples),
			  offsetof(struct session_sample, id), id);
}

/* Index of process id, the previous row's answer first. */
static int proc_of_row(struct loader *l, int64_t id)
{
	if (l->last_proc < 0 || l->last_proc_id != id) {
		l->last_proc_id = id;
		l->last_proc = find_proc(l->d, id);
	}
	return l->last_proc;
}

/* A sample's id is usually the next one's after the previous row's. */
static ssize_t sample_of_row(struct loader *l, int64_t id)
{
	const struct session_data *d = l->d;
	size_t k = (size_t)(l->last_sample + 1);
	l->last_sample = k < d->nsamples && d->samples[k].id == id ? (ssize_t)k
								   : find_sample(d, id);
	return l->last_sample;
}

static void add_point(struct session_point **v, size_t *n, size_t sample,
		      char state, const struct cow_figures *f)
{
	*v = grow_rows(*v, *n, sizeof(**v));
	(*v)[*n].sample = sample;
	(*v)[*n].state = state;
	(*v)[(*n)++].fig = *f;
}

static int proc_sample_row(struct loader *l, sqlite3_stmt *st)
{
	if (bad_sizes(l, st, 3, 11, "process", sqlite3_column_int64(st, 0)))
		return -EINVAL;
	int p = proc_of_row(l, sqlite3_column_int64(st, 0));
	ssize_t s = sample_of_row(l, sqlite3_column_int64(st, 1));
	if (p < 0 || s < 0)
		return 0;  /* a row of a sample that was never committed whole */
	const unsigned char *state = sqlite3_column_text(st, 2);
	struct cow_figures f = {0};
	uint64_t *v[] = { &f.rss_kb, &f.pss_kb, &f.uss_kb, &f.swap_kb,
			  &f.anon_kb, &f.shmem_kb, &f.file_kb,
			  &f.shared_with_parent_kb, &f.copied_kb, &f.new_kb,
			  &f.shared_anywhere_kb };
	for (int i = 0; i < 11; i++)
		*v[i] = (uint64_t)sqlite3_column_int64(st, 3 + i);
	struct session_process *pr = &l->d->procs[p];
	add_point(&pr->points, &pr->npoints, (size_t)s,
		  state && *state ? (char)*state : '?', &f);
	return 0;
}

static int region_row(struct loader *l, sqlite3_stmt *st)
{
	int p = find_proc(l->d, sqlite3_column_int64(st, 1));
	if (p < 0)
		return -EINVAL;
	struct session_process *pr = &l->d->procs[p];
	pr->regions = grow_rows(pr->regions, pr->nregions, sizeof(*pr->regions));
	struct session_region *r = &pr->regions[pr->nregions++];
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->start = (uint64_t)sqlite3_column_int64(st, 2);
	r->end = (uint64_t)sqlite3_column_int64(st, 3);
	const unsigned char *perms = sqlite3_column_text(st, 4);
	snprintf(r->perms, sizeof(r->perms), "%s", perms ? (const char *)perms : "");
	r->kind = col_text(st, 5);
	r->path = col_text(st, 6);
	return 0;
}

static struct session_region *find_region(struct session_data *d, int64_t pid_id,
					  int64_t id)
{
	int p = find_proc(d, pid_id);
	if (p < 0)
		return NULL;
	struct session_process *pr = &d->procs[p];
	for (size_t k = 0; k < pr->nregions; k++)
		if (pr->regions[k].id == id)
			return &pr->regions[k];
	return NULL;
}

static int region_sample_row(struct loader *l, sqlite3_stmt *st)
{
	if (bad_sizes(l, st, 3, 5, "region", sqlite3_column_int64(st, 1)))
		return -EINVAL;
	struct session_region *r = find_region(l->d, sqlite3_column_int64(st, 0),
					       sqlite3_column_int64(st, 1));
	ssize_t s = find_sample(l->d, sqlite3_column_int64(st, 2));
	if (!r || s < 0)
		return 0;
	struct cow_figures f = {0};
	f.rss_kb = (uint64_t)sqlite3_column_int64(st, 3);
	f.anon_kb = (uint64_t)sqlite3_column_int64(st, 4);
	f.shared_with_parent_kb = (uint64_t)sqlite3_column_int64(st, 5);
	f.copied_kb = (uint64_t)sqlite3_column_int64(st, 6);
	f.new_kb = (uint64_t)sqlite3_column_int64(st, 7);
	add_point(&r->points, &r->npoints, (size_t)s, 0, &f);
	return 0;
}

static int event_row(struct loader *l, sqlite3_stmt *st)
{
	if (bad_time(l, sqlite3_column_double(st, 0), "an event of process",
		     sqlite3_column_int64(st, 1)))
		return -EINVAL;
	struct session_data *d = l->d;
	d->events = grow_rows(d->events, d->nevents, sizeof(*d->events));
	struct session_event *e = &d->events[d->nevents++];
	e->t = sqlite3_column_double(st, 0);
	e->process = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		     find_proc(d, sqlite3_column_int64(st, 1));
	e->pid = sqlite3_column_int(st, 2);
	e->kind = col_text(st, 3);
	e->detail = col_text(st, 4);
	return 0;
}

static int wait_row(struct loader *l, sqlite3_stmt *st)
{
	int p = find_proc(l->d, sqlite3_column_int64(st, 0));
	ssize_t s = find_sample(l->d, sqlite3_column_int64(st, 1));
	if (p < 0 || s < 0)
		return 0;
	struct session_process *pr = &l->d->procs[p];
	pr->waits = grow_rows(pr->waits, pr->nwaits, sizeof(*pr->waits));
	struct session_wait *w = &pr->waits[pr->nwaits++];
	const unsigned char *state = sqlite3_column_text(st, 2);
	w->sample = (size_t)s;
	w->state = state && *state ? (char)*state : '?';
	w->cpu_s = sqlite3_column_double(st, 3);
	w->wchan = col_text(st, 4);
	w->syscall = col_text(st, 5);
	w->blocked_on = col_text(st, 6);
	w->python = col_text(st, 7);
	return 0;
}

static int fault_source_row(struct loader *l, sqlite3_stmt *st)
{
	int p = find_proc(l->d, sqlite3_column_int64(st, 0));
	if (p < 0)
		return 0;
	struct session_process *pr = &l->d->procs[p];
	free(pr->fault_method);
	free(pr->python_status);
	pr->fault_method = col_text(st, 1);
	pr->fault_events = (uint64_t)sqlite3_column_int64(st, 2);
	pr->fault_dropped = (uint64_t)sqlite3_column_int64(st, 3);
	pr->python_status = col_text(st, 4);
	return 0;
}

static int frame_row(struct loader *l, sqlite3_stmt *st)
{
	struct session_data *d = l->d;
	d->frames = grow_rows(d->frames, d->nframes, sizeof(*d->frames));
	struct session_frame *f = &d->frames[d->nframes++];
	f->id = sqlite3_column_int64(st, 0);
	f->python = sqlite3_column_int(st, 1) != 0;
	f->function = col_text(st, 2);
	f->module = col_text(st, 3);
	f->offset = (uint64_t)sqlite3_column_int64(st, 4);
	f->source = col_text(st, 5);
	f->line = sqlite3_column_int(st, 6);
	return 0;
}

/* A stack row: frame ids as "12,5,9"; an id that names no frame makes the
 * file corrupted. */
static int stack_row(struct loader *l, sqlite3_stmt *st)
{
	struct session_data *d = l->d;
	const char *ids = (const char *)sqlite3_column_text(st, 1);
	struct session_stack k = { .id = sqlite3_column_int64(st, 0) };
	size_t cap = 0;
	while (ids && *ids) {
		char *end;
		long long id = strtoll(ids, &end, 10);
		ssize_t f = find_by_id(d->frames, d->nframes, sizeof(*d->frames),
				       offsetof(struct session_frame, id), id);
		if (end == ids || f < 0) {
			free(k.frames);
			return -EINVAL;
		}
		util_grow((void **)&k.frames, &cap, k.nframes + 1, sizeof(*k.frames));
		k.frames[k.nframes++] = (size_t)f;
		ids = *end == ',' ? end + 1 : end;
	}
	d->stacks = grow_rows(d->stacks, d->nstacks, sizeof(*d->stacks));
	d->stacks[d->nstacks++] = k;
	return 0;
}

static int stack_index(const struct session_data *d, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return -1;
	return (int)find_by_id(d->stacks, d->nstacks, sizeof(*d->stacks),
			       offsetof(struct session_stack, id),
			       sqlite3_column_int64(st, col));
}

static int fault_group_row(struct loader *l, sqlite3_stmt *st)
{
	int64_t pid_id = sqlite3_column_int64(st, 0);
	if (bad_sizes(l, st, 3, 1, "the faults of process", pid_id) ||
	    bad_time(l, sqlite3_column_double(st, 4), "a fault of process", pid_id) ||
	    bad_time(l, sqlite3_column_double(st, 5), "a fault of process", pid_id))
		return -EINVAL;
	struct session_data *d = l->d;
	int p = find_proc(d, sqlite3_column_int64(st, 0));
	if (p < 0)
		return 0;
	d->fault_groups = grow_rows(d->fault_groups, d->nfault_groups, sizeof(*d->fault_groups));
	struct session_fault_group *g = &d->fault_groups[d->nfault_groups++];
	g->process = p;
	g->native_stack = stack_index(d, st, 1);
	g->python_stack = stack_index(d, st, 2);
	g->pages = (uint64_t)sqlite3_column_int64(st, 3);
	g->first_t = sqlite3_column_double(st, 4);
	g->last_t = sqlite3_column_double(st, 5);
	return 0;
}

static int proc_or_none(const struct session_data *d, sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 :
	       find_proc(d, sqlite3_column_int64(st, col));
}

static int signal_row(struct loader *l, sqlite3_stmt *st)
{
	if (bad_time(l, sqlite3_column_double(st, 0), "a signal to pid",
		     sqlite3_column_int64(st, 2)))
		return -EINVAL;
	struct session_data *d = l->d;
	d->signals = grow_rows(d->signals, d->nsignals, sizeof(*d->signals));
	struct session_signal *g = &d->signals[d->nsignals++];
	g->t = sqlite3_column_double(st, 0);
	g->process = proc_or_none(d, st, 1);
	g->pid = sqlite3_column_int(st, 2);
	g->signal = sqlite3_column_int(st, 3);
	g->code = sqlite3_column_int(st, 4);
	g->sender_pid = sqlite3_column_int(st, 5);
	g->sender_cmd = col_text(st, 6);
	g->sender_process = proc_or_none(d, st, 7);
	g->sender_exiting = sqlite3_column_int(st, 8) != 0;
	g->result = col_text(st, 9);
	return 0;
}

static int oom_row(struct loader *l, sqlite3_stmt *st)
{
	if (bad_time(l, sqlite3_column_double(st, 0), "an OOM kill of pid",
		     sqlite3_column_int64(st, 2)) ||
	    bad_sizes(l, st, 3, 4, "an OOM kill of pid", sqlite3_column_int64(st, 2)))
		return -EINVAL;
	struct session_data *d = l->d;
	d->ooms = grow_rows(d->ooms, d->nooms, sizeof(*d->ooms));
	struct session_oom *o = &d->ooms[d->nooms++];
	o->t = sqlite3_column_double(st, 0);
	o->process = proc_or_none(d, st, 1);
	o->pid = sqlite3_column_int(st, 2);
	o->total_vm_kb = (uint64_t)sqlite3_column_int64(st, 3);
	o->anon_rss_kb = (uint64_t)sqlite3_column_int64(st, 4);
	o->file_rss_kb = (uint64_t)sqlite3_column_int64(st, 5);
	o->shmem_rss_kb = (uint64_t)sqlite3_column_int64(st, 6);
	o->cgroup = col_text(st, 7);
	return 0;
}

/* The tables added in version 2. */
static int load_rows_v2(struct loader *l)
{
	int r = each_row(l, "SELECT * FROM proc_waits ORDER BY process_id,"
			 " sample_id", wait_row);
	if (r == 0)
		r = each_row(l, "SELECT * FROM fault_sources", fault_source_row);
	if (r == 0)
		r = each_row(l, "SELECT id, python, function, module, offset, source,"
			     " line FROM frames ORDER BY id", frame_row);
	if (r == 0)
		r = each_row(l, "SELECT id, frame_ids FROM stacks ORDER BY id",
			     stack_row);
	if (r == 0)
		r = each_row(l, l->d->version >= 3 ?
			     "SELECT process_id, native_stack_id, python_stack_id,"
			     " sum(weight) AS n, min(t), max(t) FROM faults GROUP BY"
			     " process_id, native_stack_id, python_stack_id"
			     " ORDER BY n DESC, process_id" :
			     "SELECT process_id, native_stack_id, python_stack_id,"
			     " count(*) AS n, min(t), max(t) FROM faults GROUP BY"
			     " process_id, native_stack_id, python_stack_id"
			     " ORDER BY n DESC, process_id", fault_group_row);
	if (r == 0)
		r = each_row(l, "SELECT t, process_id, pid, signal, code, sender_pid,"
			     " sender_cmd, sender_process_id, sender_exiting, result"
			     " FROM signals ORDER BY t, id", signal_row);
	if (r == 0)
		r = each_row(l, "SELECT t, process_id, pid, total_vm_kb, anon_rss_kb,"
			     " file_rss_kb, shmem_rss_kb, cgroup FROM oom_kills"
			     " ORDER BY t, id", oom_row);
	return r;
}

/* Parent ids to indices; a process that is its own ancestor (a crafted
 * file) would send every walk up the tree round for ever: refused. */
static int resolve_parents(struct loader *l)
{
	struct session_data *d = l->d;
	for (size_t i = 0; i < d->nprocs; i++)
		d->procs[i].parent = d->procs[i].parent > 0 ?
				     find_proc(d, d->procs[i].parent) : -1;
	/* each process visited once: 1 on the walk being made, 2 known to
	 * reach a root */
	unsigned char *mark = xcalloc(d->nprocs + 1, 1);
	int r = 0;
	for (size_t i = 0; i < d->nprocs && r == 0; i++) {
		int k = (int)i;
		while (k >= 0 && !mark[k]) {
			mark[k] = 1;
			k = d->procs[k].parent;
		}
		if (k >= 0 && mark[k] == 1) {
			snprintf(l->bad, sizeof(l->bad), "process %d is its own ancestor",
				 d->procs[k].pid);
			r = -EINVAL;
		}
		for (k = (int)i; k >= 0 && mark[k] == 1; k = d->procs[k].parent)
			mark[k] = 2;
	}
	free(mark);
	return r;
}

static int load_rows(struct loader *l)
{
	int r = each_row(l, "SELECT key, value FROM meta ORDER BY key", meta_row);
	if (r == 0)
		r = each_row(l, "SELECT id, t, duration_s, processes, rss_kb, pss_kb,"
			     " uss_kb, swap_kb, unique_kb FROM samples ORDER BY id",
			     sample_row);
	if (r == 0)
		r = each_row(l, "SELECT id, pid, ppid, parent_id, start_ticks,"
			     " fork_time, exit_time, exit_code, exit_signal, cmd"
			     " FROM processes ORDER BY id", proc_row);
	if (r == 0)
		r = resolve_parents(l);
	if (r == 0)
		r = each_row(l, "SELECT * FROM proc_samples ORDER BY process_id,"
			     " sample_id", proc_sample_row);
	if (r == 0)
		r = each_row(l, "SELECT id, process_id, start, end, perms, kind, path"
			     " FROM regions ORDER BY process_id, start, id", region_row);
	if (r == 0)
		r = each_row(l, "SELECT r.process_id, s.region_id, s.sample_id,"
			     " s.rss_kb, s.anon_kb, s.shared_with_parent_kb,"
			     " s.copied_kb, s.new_kb FROM region_samples s JOIN"
			     " regions r ON r.id = s.region_id ORDER BY s.region_id,"
			     " s.sample_id", region_sample_row);
	if (r == 0)
		r = each_row(l, "SELECT t, process_id, pid, kind, detail FROM events"
			     " ORDER BY t, id", event_row);
	if (r == 0 && l->d->version >= 2)
		r = load_rows_v2(l);
	return r;
}

/* Is the file an SQLite database at all? Its first 16 bytes say; *wal:
 * bytes 18 and 19 are 2 in WAL mode (a recording going on, or one whose
 * recorder was killed). */
static int check_header(const char *path, bool *wal, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return format_error(err, errlen, -errno, "%s: %s", path, strerror(errno));
	unsigned char head[20];
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, "SQLite format 3", 16))
		return format_error(err, errlen, -EINVAL, "%s: not a cowprof session "
			    "(not an SQLite database)", path);
	*wal = head[18] == 2 && head[19] == 2;
	return 0;
}

static bool exists_beside(const char *path, const char *suffix)
{
	char *p = xasprintf("%s%s", path, suffix);
	bool e = access(p, F_OK) == 0;
	free(p);
	return e;
}

/* Can this process create files beside path (SQLite's -shm)? */
static bool folder_writable(const char *path)
{
	char *dir = folder_of(path);
	bool w = access(dir, W_OK) == 0;
	free(dir);
	return w;
}

/* "file:PATH?immutable=1", with the characters a URI gives a meaning to
 * ('%', '?', '#') percent-encoded (sqlite3_free it). */
static char *immutable_uri(const char *path)
{
	char *enc = xmalloc(3 * strlen(path) + 1), *q = enc;
	for (const char *p = path; *p; p++)
		if (*p == '%' || *p == '?' || *p == '#')
			q += sprintf(q, "%%%02X", (unsigned char)*p);
		else
			*q++ = *p;
	*q = '\0';
	char *uri = sqlite3_mprintf("file:%s?immutable=1", enc);
	free(enc);
	return uri;
}

/* Open path for reading. A session in WAL mode without a log (-wal) is
 * whole in its file: read it as immutable, creating nothing beside it. One
 * with a log (its recorder runs, or was killed) needs the -shm file beside
 * it, which a reader without write access to the folder cannot make. */
static int open_for_reading(const char *path, bool wal, sqlite3 **db, char *err,
			    size_t errlen)
{
	bool has_log = wal && exists_beside(path, "-wal");
	if (has_log && !exists_beside(path, "-shm") && !folder_writable(path))
		return format_error(err, errlen, -EACCES, "%s: read-only folder: cannot "
			    "read the unfinished session's log (%s-wal; copy both to a "
			    "folder you can write)", path, path);
	int rc;
	if (wal && !has_log) {
		char *uri = immutable_uri(path);
		rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
				     SQLITE_OPEN_NOMUTEX, NULL);
		sqlite3_free(uri);
	} else {
		/* one thread per connection: no locking of SQLite's own */
		rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
				     NULL);
	}
	if (rc != SQLITE_OK) {
		int r = format_error(err, errlen, -EINVAL, "%s: cannot open the session: %s",
				     path, *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return r;
	}
	return 0;
}

static int check_version(struct loader *l, const char *path, char *err,
			 size_t errlen)
{
	sqlite3_stmt *st;
	if (query(l, "PRAGMA user_version", &st) < 0)
		return format_error(err, errlen, -EINVAL, "%s: unreadable session: %s",
			    path, sqlite3_errmsg(l->db));
	int rc = sqlite3_step(st);
	int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return format_error(err, errlen, -EINVAL, "%s: the session file is "
				    "corrupted or truncated (%s)", path,
				    sqlite3_errmsg(l->db));
	l->d->version = v;
	if (v > SESSION_SCHEMA_VERSION)
		return format_error(err, errlen, -EPROTO, "%s: written by a newer cowprof "
			    "(session format %d; this cowprof reads up to %d)",
			    path, v, SESSION_SCHEMA_VERSION);
	if (v < 1)
		return format_error(err, errlen, -EINVAL, "%s: not a cowprof session "
			    "(an SQLite database without cowprof's schema)", path);
	return 0;
}

static int check_integrity(struct loader *l, const char *path, char *err,
			   size_t errlen)
{
	sqlite3_stmt *st;
	int ok = 0;
	if (query(l, "PRAGMA quick_check", &st) == 0) {
		ok = sqlite3_step(st) == SQLITE_ROW &&
		     !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
	}
	return ok ? 0 : format_error(err, errlen, -EINVAL, "%s: the session file is "
			     "corrupted or truncated (%s)", path,
			     sqlite3_errmsg(l->db));
}

/* ---- the session as a sink (measure/sink.h) ---- */

static int sk_set_meta(void *c, const char *key, const char *value)
{
	return session_set_meta(c, key, value);
}

static int sk_begin_sample(void *c, double t, double duration_s,
			   const struct cow_tree_figures *tree, size_t nprocs,
			   int64_t *sample_id)
{
	return session_begin_sample(c, t, duration_s, tree, nprocs, sample_id);
}

static int sk_begin(void *c)
{
	return session_begin(c);
}

static int sk_commit(void *c)
{
	return session_end_sample(c);
}

static int sk_add_process(void *c, const struct sink_proc *p, int64_t *id)
{
	return session_add_process(c, p, id);
}

static int sk_add_proc_sample(void *c, int64_t sample_id, int64_t process_id,
			      char state, const struct cow_figures *f)
{
	return session_add_proc_sample(c, sample_id, process_id, state, f);
}

static int sk_add_region(void *c, int64_t process_id, uint64_t start,
			 uint64_t end, const char *perms, const char *kind,
			 const char *path, int64_t *id)
{
	return session_add_region(c, process_id, start, end, perms, kind, path, id);
}

static int sk_add_region_sample(void *c, int64_t sample_id, int64_t region_id,
				const struct cow_figures *f)
{
	return session_add_region_sample(c, sample_id, region_id, f);
}

static int sk_set_exit(void *c, int64_t process_id, double t, int exit_code,
		       int signal)
{
	return session_set_exit(c, process_id, t, exit_code, signal);
}

static int sk_add_event(void *c, double t, int64_t process_id, int pid,
			const char *kind, const char *detail)
{
	return session_add_event(c, t, process_id, pid, kind, detail);
}

static int sk_add_frame(void *c, const struct sink_frame *f, int64_t *id)
{
	return session_add_frame(c, f, id);
}

static int sk_add_stack(void *c, const int64_t *frame_ids, size_t n,
			int64_t *id)
{
	return session_add_stack(c, frame_ids, n, id);
}

static int sk_add_fault(void *c, int64_t process_id, double t, int tid,
			uint64_t addr, int64_t region_id, int64_t native_stack_id,
			int64_t python_stack_id, uint64_t weight)
{
	return session_add_fault(c, process_id, t, tid, addr, region_id,
				 native_stack_id, python_stack_id, weight);
}

static int sk_set_fault_source(void *c, int64_t process_id, const char *method,
			       uint64_t events, uint64_t dropped,
			       const char *python_status)
{
	return session_set_fault_source(c, process_id, method, events, dropped,
					python_status);
}

static int sk_add_wait(void *c, int64_t sample_id, int64_t process_id,
		       const struct sink_wait *w)
{
	return session_add_wait(c, sample_id, process_id, w);
}

static int sk_add_signal(void *c, const struct sink_signal *g)
{
	return session_add_signal(c, g);
}

static int sk_add_oom(void *c, const struct sink_oom *o)
{
	return session_add_oom(c, o);
}

static uint64_t sk_size_bytes(void *c)
{
	return session_file_size(c);
}

static const struct sink_ops session_sink_ops = {
	.set_meta = sk_set_meta,
	.begin_sample = sk_begin_sample,
	.begin = sk_begin,
	.commit = sk_commit,
	.add_process = sk_add_process,
	.add_proc_sample = sk_add_proc_sample,
	.add_region = sk_add_region,
	.add_region_sample = sk_add_region_sample,
	.set_exit = sk_set_exit,
	.add_event = sk_add_event,
	.add_frame = sk_add_frame,
	.add_stack = sk_add_stack,
	.add_fault = sk_add_fault,
	.set_fault_source = sk_set_fault_source,
	.add_wait = sk_add_wait,
	.add_signal = sk_add_signal,
	.add_oom = sk_add_oom,
	.size_bytes = sk_size_bytes,
};

void session_sink(struct session *s, struct sink *out)
{
	out->ops = &session_sink_ops;
	out->ctx = s;
}


int session_load(const char *path, struct session_data *d, char *err,
		 size_t errlen)
{
	memset(d, 0, sizeof(*d));
	bool wal = false;
	int r = check_header(path, &wal, err, errlen);
	if (r < 0)
		return r;
	struct loader l = { .d = d, .last_proc = -1, .last_sample = -1 };
	if ((r = open_for_reading(path, wal, &l.db, err, errlen)) < 0)
		return r;
	sqlite3_busy_timeout(l.db, 2000);
	r = check_version(&l, path, err, errlen);
	if (r == 0)
		r = check_integrity(&l, path, err, errlen);
	if (r == 0 && (r = load_rows(&l)) < 0) {
		if (l.bad[0])
			format_error(err, errlen, r, "%s: not a valid session: %s",
				     path, l.bad);
		else
			format_error(err, errlen, r, "%s: the session file is corrupted "
				     "or not cowprof's (%s)", path, sqlite3_errmsg(l.db));
	}
	sqlite3_close(l.db);
	if (r < 0)
		session_data_release(d);
	return r;
}

static void release_points_regions(struct session_process *p)
{
	for (size_t k = 0; k < p->nregions; k++) {
		free(p->regions[k].kind);
		free(p->regions[k].path);
		free(p->regions[k].points);
	}
	free(p->regions);
	free(p->points);
	free(p->cmd);
	for (size_t k = 0; k < p->nwaits; k++) {
		free(p->waits[k].wchan);
		free(p->waits[k].syscall);
		free(p->waits[k].blocked_on);
		free(p->waits[k].python);
	}
	free(p->waits);
	free(p->fault_method);
	free(p->python_status);
}

static void release_v2(struct session_data *d)
{
	for (size_t i = 0; i < d->nframes; i++) {
		free(d->frames[i].function);
		free(d->frames[i].module);
		free(d->frames[i].source);
	}
	for (size_t i = 0; i < d->nstacks; i++)
		free(d->stacks[i].frames);
	for (size_t i = 0; i < d->nsignals; i++) {
		free(d->signals[i].sender_cmd);
		free(d->signals[i].result);
	}
	for (size_t i = 0; i < d->nooms; i++)
		free(d->ooms[i].cgroup);
	free(d->frames);
	free(d->stacks);
	free(d->fault_groups);
	free(d->signals);
	free(d->ooms);
}

void session_data_release(struct session_data *d)
{
	for (size_t i = 0; i < d->nmeta; i++) {
		free(d->meta[i].key);
		free(d->meta[i].value);
	}
	for (size_t i = 0; i < d->nprocs; i++)
		release_points_regions(&d->procs[i]);
	for (size_t i = 0; i < d->nevents; i++) {
		free(d->events[i].kind);
		free(d->events[i].detail);
	}
	release_v2(d);
	free(d->meta);
	free(d->samples);
	free(d->procs);
	free(d->events);
	memset(d, 0, sizeof(*d));
}

const char *session_meta(const struct session_data *d, const char *key)
{
	for (size_t i = 0; i < d->nmeta; i++)
		if (!strcmp(d->meta[i].key, key))
			return d->meta[i].value;
	return NULL;
}
