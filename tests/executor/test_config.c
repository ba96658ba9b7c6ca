/* tests/executor/test_config.c: configuration errors are named once on stderr and
 * answered with RF_ECONFIG by every call that starts the runtime; rf_config's size is
 * honoured. Runs in its own process: the runtime must not have started before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringfold.h"

/* Run fn with stderr going to a temporary file; returns what was written (static). */
static const char *capture_stderr(void (*fn)(void *), void *arg)
{
	static char text[4096];
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = 0;
	fclose(tmp);
	return text;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int body(rf_val arg, rf_val *out)
{
	*out = arg;
	return 0;
}

static int results[4];
static void start_three_ways(void *arg)
{
	rf_config cfg;
	rf_future *f = NULL;
	results[0] = rf_init(NULL);
	results[1] = rf_future_call(body, 1, &f);
	results[2] = rf_go(body, 1, NULL);
	results[3] = rf_config_default(&cfg);
}

static void malformed_env_is_named_once(void **state)
{
	setenv("RF_STACK_SIZE", "64k", 1);
	const char *err = capture_stderr(start_three_ways, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(results[i], RF_ECONFIG);
	assert_int_equal(count_lines(err), 1); /* one line, not one per call */
	assert_non_null(strstr(err, "RF_STACK_SIZE"));
	assert_non_null(strstr(err, "64k"));
	assert_non_null(strstr(err, "16384")); /* what is expected */
	assert_non_null(strstr(rf_strerror(RF_ECONFIG), "RF_ECONFIG"));
	setenv("RF_IO_BACKEND", "io_uring", 1); /* still the first error reported */
	setenv("RF_STACK_SIZE", "131072", 1);
	err = capture_stderr(start_three_ways, NULL);
	assert_int_equal(results[0], RF_ECONFIG);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "RF_IO_BACKEND=\"io_uring\""));
	assert_non_null(strstr(err, "auto, uring or epoll"));
	unsetenv("RF_IO_BACKEND");
	unsetenv("RF_STACK_SIZE");
}

static int init_result;
static void init_with(void *cfg)
{
	init_result = rf_init(cfg);
}

static void bad_fields_are_named(void **state)
{
	rf_config cfg;
	assert_int_equal(rf_config_default(&cfg), 0);
	assert_int_equal(cfg.size, sizeof(rf_config));
	cfg.stack_size = 1000;
	const char *err = capture_stderr(init_with, &cfg);
	assert_int_equal(init_result, RF_ECONFIG);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "rf_config.stack_size = 1000"));
	assert_int_equal(rf_config_default(&cfg), 0);
	cfg.fj_steal = (rf_steal_policy)7;
	err = capture_stderr(init_with, &cfg);
	assert_int_equal(init_result, RF_ECONFIG);
	assert_non_null(strstr(err, "rf_config.fj_steal = 7"));
	rf_config unsized = {.stack_size = 65536}; /* size left 0 */
	err = capture_stderr(init_with, &unsized);
	assert_int_equal(init_result, RF_ECONFIG);
	assert_non_null(strstr(err, "rf_config.size = 0"));
	assert_int_equal(rf_config_default(NULL), -EINVAL);
}

/* A caller built against an older, shorter rf_config: the fields past its size take
 * the defaults (here a garbage tail would be an out-of-range stack size). */
static void size_is_honoured(void **state)
{
	union {
		rf_config cfg;
		unsigned char bytes[sizeof(rf_config)];
	} u;
	memset(u.bytes, 0xff, sizeof(u.bytes));
	u.cfg.size = offsetof(rf_config, topology) + sizeof(u.cfg.topology);
	u.cfg.topology = NULL;
	assert_int_equal(rf_init(&u.cfg), 0);
	rf_future *f;
	rf_val v;
	assert_int_equal(rf_future_call(body, 5, &f), 0);
	assert_int_equal(rf_future_deref(f, &v), 0);
	assert_int_equal(v, 5);
	rf_future_free(f);
	rf_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(malformed_env_is_named_once),
	    cmocka_unit_test(bad_fields_are_named),
	    cmocka_unit_test(size_is_honoured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
