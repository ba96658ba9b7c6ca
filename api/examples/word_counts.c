/* The tutorial's shared map of counters: futures count words into one map held by an
 * atom, each with swap!; the map is a value, so a reader's @counters is a whole,
 * consistent map, and the versions swap! replaced are freed once nobody can see them.
 *
 *   (def counters (atom {}))
 *   (defn count-word [w] (swap! counters update w (fnil inc 0)))
 *   (run! deref (doall (map #(future (count-word %)) words)))
 *   (get @counters "the")        ;=> 4
 *   (count @counters)            ;=> 9
 */
#include <stdio.h>
#include <string.h>

#include <ringfold.h>

static const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy",
                              "dog", "and",   "the",   "fox", "naps",  "the",  "end"};
enum { NWORDS = sizeof(words) / sizeof(words[0]) };

static rf_atom *counters;

/* (defn count-word [w] (swap! counters update w (fnil inc 0))) */
static int count_word(rf_val w, rf_val *out)
{
	return rf_atom_swap(counters, rf_phm_inc_op, w, NULL);
}

int main(void)
{
	rf_phm *empty;
	rf_phm_new(&rf_coll_str, &empty);                                      /* {} */
	rf_atom_new_owning(rf_from_ptr(empty), rf_coll_release, 0, &counters); /* (atom {}) */

	rf_future *f[NWORDS];
	for (int i = 0; i < NWORDS; i++)
		rf_future_call(count_word, rf_from_ptr(words[i]),
		               &f[i]); /* (future (count-word w)) */
	for (int i = 0; i < NWORDS; i++) {
		rf_val ignored;
		rf_deref(f[i], &ignored);
		rf_future_free(f[i]);
	}

	rf_val m, the = 0, fox = 0;
	rf_reclaim_read_begin(); /* the map we read stays ours until the section ends */
	rf_deref(counters, &m);  /* @counters */
	const rf_phm *seen = rf_to_ptr(m);
	rf_phm_get(seen, rf_from_ptr("the"), 0, &the); /* (get @counters "the" 0) */
	rf_phm_get(seen, rf_from_ptr("fox"), 0, &fox);
	size_t distinct = rf_phm_count(seen); /* (count @counters) */
	rf_coll_iter it;
	rf_val w, n;
	for (rf_phm_iter_init(seen, &it); rf_coll_iter_next(&it, &w, &n);)
		printf("%s %lld\n", (const char *)rf_to_ptr(w), (long long)n);
	rf_reclaim_read_end();

	rf_atom_free(counters);
	rf_shutdown();
	if (the != 4 || fox != 2 || distinct != 11) {
		fprintf(stderr, "word_counts: the=%lld fox=%lld distinct=%zu\n", (long long)the,
		        (long long)fox, distinct);
		return 1;
	}
	return 0;
}
