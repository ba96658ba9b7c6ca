/* The tutorial's log lock: lines printed by many threads come out whole.
 *
 *   (def log-lock (Object.))
 *   (defn log [& args]
 *     (locking log-lock
 *       (apply println args)))
 *
 * Each line is written one character at a time (as a slow console would take it), so
 * without the lock lines from different threads would interleave; the program checks
 * that every line came out whole.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringfold.h>

enum { THREADS = 4, LINES = 500 };

static rf_lock log_lock; /* (def log-lock (Object.)) */
static FILE *out;

static int println_body(rf_val arg, rf_val *result)
{
	for (const char *c = rf_to_ptr(arg); *c; c++)
		fputc(*c, out);
	fputc('\n', out);
	return 0;
}

static int log_line(const char *line) /* (defn log [& args] (locking log-lock ...)) */
{
	return rf_locking(&log_lock, println_body, rf_from_ptr(line), NULL);
}

static const char *lines[THREADS] = {
    "INFO 2017-4-29: Starting database connection.",
    "WARNING 2017-4-29: Cannot find configuration file, using defaults.",
    "INFO 2017-4-29: Listening on port 8080.",
    "ERROR 2017-4-29: Disk almost full.",
};

static void *logger(void *arg)
{
	for (int i = 0; i < LINES; i++)
		if (log_line(lines[(intptr_t)arg]))
			abort();
	return NULL;
}

int main(void)
{
	char *buf;
	size_t len;
	pthread_t t[THREADS];
	rf_lock_init(&log_lock);
	out = open_memstream(&buf, &len);
	for (intptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, logger, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	fclose(out);

	int whole = 0, mangled = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		int ok = 0;
		for (int i = 0; i < THREADS; i++)
			ok |= strcmp(line, lines[i]) == 0;
		if (ok && whole < THREADS)
			printf("%s\n", line);
		ok ? whole++ : mangled++;
	}
	free(buf);
	printf("%d whole lines, %d mangled\n", whole, mangled);
	rf_lock_destroy(&log_lock);
	return whole == THREADS * LINES && mangled == 0 ? 0 : 1;
}
