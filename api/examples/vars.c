/* The tutorial's vars: a var has a root value, changed with alter-var-root, and a
 * dynamic var can have a different value per thread (or fiber), in a scope.
 *
 *   (def ^:dynamic *greeting* "Hello")
 *   (alter-var-root #'*greeting* (constantly "Howdy"))  ; the root, for everyone
 *   (binding [*greeting* "Bonjour"]                      ; this thread only
 *     (greet)                                            ; => Bonjour
 *     (set! *greeting* "Salut")
 *     (greet))                                           ; => Salut
 *   (greet)                                              ; => Howdy again
 *   ;; another thread meanwhile sees the root: Howdy
 *
 * Values are words: here indexes into a table of greetings. Checks its own answer. */
#include <pthread.h>
#include <stdio.h>

#include <ringfold.h>

static const char *greetings[] = {"Hello", "Howdy", "Bonjour", "Salut"};
static rf_var *greeting;
static pthread_barrier_t in_binding;
static const char *other_thread_saw;

static const char *greet(void)
{
	rf_val g;
	rf_deref(greeting, &g);
	printf("%s, world\n", greetings[g]);
	return greetings[g];
}

static void *other_thread(void *arg)
{
	pthread_barrier_wait(&in_binding); /* the main thread is inside its binding */
	other_thread_saw = greet();
	pthread_barrier_wait(&in_binding);
	return NULL;
}

/* (binding [*greeting* "Bonjour"] (greet) (set! *greeting* "Salut") (greet)) */
static int bonjour_scope(rf_val arg, rf_val *out)
{
	const char *first = greet();
	pthread_barrier_wait(&in_binding);
	pthread_barrier_wait(&in_binding);
	int rc = rf_var_set(greeting, 3);
	*out = first == greetings[2] && greet() == greetings[3];
	return rc;
}

int main(void)
{
	rf_val ok = 0;
	pthread_t t;
	if (rf_var_new_dynamic(0, &greeting))
		return 1;
	if (rf_var_alter_root(greeting, rf_constantly, 1, NULL))
		return 1;
	pthread_barrier_init(&in_binding, NULL, 2);
	pthread_create(&t, NULL, other_thread, NULL);
	int rc = rf_var_binding(greeting, 2, bonjour_scope, 0, &ok);
	pthread_join(t, NULL);
	const char *after = greet();
	/* binding a var that is not dynamic is an error, as in Clojure */
	rf_var *plain;
	rf_var_new(0, &plain);
	int not_dynamic = rf_var_binding(plain, 1, bonjour_scope, 0, NULL);
	rf_var_free(plain);
	rf_var_free(greeting);
	pthread_barrier_destroy(&in_binding);
	return rc || !ok || after != greetings[1] || other_thread_saw != greetings[1] ||
	       not_dynamic != RF_ENOTDYNAMIC;
}
