/* preloadenv.h - set up fault attribution for `cowprof run`
 *
 * run starts its command with libcowprof_preload.so in LD_PRELOAD and
 * COWPROF_SPOOL naming a private spool folder, where the library writes
 * each forked process's first writes (collectors/faultring.h) and the
 * recorder reads them (faults/faultlog.h).
 */
#ifndef COWPROF_FAULTS_PRELOADENV_H
#define COWPROF_FAULTS_PRELOADENV_H

#include <stddef.h>

struct preloadenv {
	char *lib;               /* absolute path of libcowprof_preload.so */
	char *spool;             /* the spool folder, made by preloadenv_init */
};

/* Find the library (COWPROF_PRELOAD_LIB, else beside the cowprof binary,
 * else in ../lib/cowprof/ from it) and make a spool folder under TMPDIR.
 * Returns 0, or -errno with a one-line reason in err (the library is not
 * found, the folder cannot be made). */
int preloadenv_init(struct preloadenv *p, char *err, size_t errlen);

/* In the child, before exec: put the library first in LD_PRELOAD and the
 * spool folder in COWPROF_SPOOL. Returns 0 or -errno. */
int preloadenv_child_env(const struct preloadenv *p);

/* Remove the spool folder and what is left in it; free what p holds. */
void preloadenv_release(struct preloadenv *p);

#endif
