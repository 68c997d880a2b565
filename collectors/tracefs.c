/* tracefs.c - find (or privately mount) tracefs and read tracepoint formats */
#include "collectors/tracefs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

void tracefs_format_release(struct tracefs_format *f)
{
	for (size_t i = 0; i < f->nfields; i++) {
		free(f->fields[i].name);
		free(f->fields[i].type);
	}
	free(f->fields);
	free(f->name);
	memset(f, 0, sizeof(*f));
}

const struct tracefs_field *tracefs_format_field(const struct tracefs_format *f,
						 const char *name)
{
	for (size_t i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	return NULL;
}

/* Parse "KEY:NUMBER;" at *p (after optional blanks). Returns 0 or -EINVAL. */
static int parse_attr(char **p, const char *key, unsigned long *val)
{
	char *s = *p + strspn(*p, " \t");
	size_t klen = strlen(key);
	if (strncmp(s, key, klen) != 0 || s[klen] != ':')
		return -EINVAL;
	s += klen + 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end != ';' || v > UINT32_MAX)
		return -EINVAL;
	*val = v;
	*p = end + 1;
	return 0;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* The declared name in a C declaration such as "char comm[16]" or
 * "__data_loc char[] comm": the last identifier, after dropping a trailing
 * array suffix. Returns an allocated copy, or NULL if there is none. */
static char *decl_name(const char *decl, size_t len)
{
	while (len && (decl[len - 1] == ' ' || decl[len - 1] == '\t'))
		len--;
	if (len && decl[len - 1] == ']') {
		while (len && decl[len - 1] != '[')
			len--;
		if (!len)
			return NULL;
		len--;
		while (len && decl[len - 1] == ' ')
			len--;
	}
	size_t end = len;
	while (len && ident_char(decl[len - 1]))
		len--;
	if (len == end || (decl[len] >= '0' && decl[len] <= '9'))
		return NULL;
	char *name = xmalloc(end - len + 1);
	memcpy(name, decl + len, end - len);
	name[end - len] = '\0';
	return name;
}

/* Parse the text after "field:" of one line into fd. */
static int parse_field(char *s, struct tracefs_field *fd)
{
	memset(fd, 0, sizeof(*fd));
	char *semi = strchr(s, ';');
	if (!semi)
		return -EINVAL;
	fd->name = decl_name(s, (size_t)(semi - s));
	if (!fd->name)
		return -EINVAL;
	fd->type = strndup(s, (size_t)(semi - s));
	if (!fd->type)
		abort();
	fd->data_loc = strncmp(s, "__data_loc", 10) == 0;
	char *p = semi + 1;
	unsigned long off, size, sgn;
	if (parse_attr(&p, "offset", &off) < 0 || parse_attr(&p, "size", &size) < 0 ||
	    parse_attr(&p, "signed", &sgn) < 0 || sgn > 1 || off + size > UINT32_MAX)
		goto bad;
	fd->offset = (uint32_t)off;
	fd->size = (uint32_t)size;
	fd->is_signed = sgn;
	if (fd->data_loc && size != 4)
		goto bad;
	return 0;
bad:
	free(fd->name);
	free(fd->type);
	memset(fd, 0, sizeof(*fd));
	return -EINVAL;
}

static int parse_line(char *line, struct tracefs_format *f, size_t *cap)
{
	line += strspn(line, " \t");
	if (strncmp(line, "name: ", 6) == 0) {
		free(f->name);
		f->name = xstrdup(line + 6);
		return 0;
	}
	if (strncmp(line, "ID: ", 4) == 0) {
		char *end;
		errno = 0;
		long id = strtol(line + 4, &end, 10);
		if (errno || end == line + 4 || *end || id <= 0 || id > INT_MAX)
			return -EINVAL;
		f->id = (int)id;
		return 0;
	}
	if (strncmp(line, "field:", 6) != 0)
		return 0;
	struct tracefs_field fd;
	int r = parse_field(line + 6, &fd);
	if (r < 0)
		return r;
	util_grow((void **)&f->fields, cap, f->nfields + 1, sizeof(fd));
	f->fields[f->nfields++] = fd;
	if (fd.offset + fd.size > f->record_size)
		f->record_size = fd.offset + fd.size;
	return 0;
}

int tracefs_format_parse(const char *text, size_t len, struct tracefs_format *f)
{
	memset(f, 0, sizeof(*f));
	char *copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	size_t cap = 0;
	int r = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "print fmt:", 10) == 0)
			break;
		r = parse_line(line, f, &cap);
		if (r < 0)
			break;
	}
	free(copy);
	if (r == 0 && (!f->name || !*f->name || f->id <= 0))
		r = -EINVAL;
	if (r < 0)
		tracefs_format_release(f);
	return r;
}

int tracefs_read_format_at(const char *root, const char *event,
			   struct tracefs_format *f)
{
	memset(f, 0, sizeof(*f));
	size_t n = strlen(root) + strlen(event) + sizeof("/events//format");
	char *path = xmalloc(n);
	snprintf(path, n, "%s/events/%s/format", root, event);
	char *text;
	size_t len;
	int r = util_read_file(path, &text, &len);
	free(path);
	if (r < 0)
		return r;
	r = tracefs_format_parse(text, len, f);
	free(text);
	return r;
}

static bool is_tracefs(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/events/header_page", dir);
	return stat(path, &st) == 0;
}

/* A directory where tracefs is mounted now, or NULL. */
static const char *mounted_tracefs(void)
{
	static const char *const known[] = { "/sys/kernel/tracing",
					     "/sys/kernel/debug/tracing" };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (is_tracefs(known[i]))
			return known[i];
	return NULL;
}

/* Make a fresh directory under $TMPDIR (or /tmp) and mount tracefs on it.
 * tracefs has one superblock for the whole system: a second mount shows the
 * same files, and mount options or MS_RDONLY here would reconfigure that
 * superblock for everyone, so pass none (MS_NOSUID etc. are per mount). */
static int private_mount(char *dir, size_t dirlen, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, dirlen, "%s/cowprof-tracefs.XXXXXX", tmp) >= dirlen) {
		snprintf(err, errlen, "TMPDIR path too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	if (mount("nodev", dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		int e = errno;
		rmdir(dir);
		if (e == ENODEV)
			snprintf(err, errlen, "no tracefs in this kernel");
		else
			snprintf(err, errlen, "tracefs is not mounted and mounting it failed: %s",
				 strerror(e));
		return -e;
	}
	return 0;
}

static void private_unmount(const char *dir)
{
	if (umount2(dir, 0) < 0)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

int tracefs_read_formats(const char *const *events, size_t n,
			 struct tracefs_format *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	char dir[PATH_MAX];
	const char *root = mounted_tracefs();
	bool ours = false;
	if (!root) {
		int r = private_mount(dir, sizeof(dir), err, errlen);
		if (r < 0)
			return r;
		root = dir;
		ours = true;
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		int e = tracefs_read_format_at(root, events[i], &out[i]);
		if (e == -ENOENT)
			continue;
		if (e < 0) {
			snprintf(err, errlen, "tracefs: %s: %s", events[i],
				 e == -EINVAL ? "unreadable format" : strerror(-e));
			r = e;
		}
	}
	if (ours)
		private_unmount(dir);
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			tracefs_format_release(&out[i]);
	return r;
}
