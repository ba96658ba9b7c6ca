/* The tutorial's core.async example: 100 go processes take numbers from a channel with a
 * buffer of 100 and add them up, while one go process puts the numbers 0..999,999.
 *
 *   (def number-chan (async/chan 100))
 *   (dotimes [_ 100]
 *     (go (loop [] (let [number (async/<! number-chan)] (swap! sum + number)) (recur))))
 *   (go (doseq [x (range 1000000)] (async/>! number-chan x)))
 *
 * Here the producer closes the channel when done, so each taker can end and report its
 * part of the sum through its go result channel. */
#include <stdio.h>

#include <ringfold.h>

enum { TAKERS = 100, COUNT = 1000000 };

static int taker(rf_val chan, rf_val *sum)
{
	rf_val number;
	while (rf_chan_take(rf_to_ptr(chan), &number) == 0) /* <!, until closed and drained */
		*sum += number;
	return 0;
}

static int producer(rf_val chan, rf_val *out)
{
	for (rf_val x = 0; x < COUNT; x++)
		rf_chan_put(rf_to_ptr(chan), x); /* >! */
	rf_chan_close(rf_to_ptr(chan));
	return 0;
}

int main(void)
{
	rf_chan *number_chan, *parts[TAKERS], *done;
	if (rf_chan_new_buf(RF_BUF_FIXED, 100, &number_chan) < 0)
		return 1;
	for (int i = 0; i < TAKERS; i++)
		if (rf_go(taker, rf_from_ptr(number_chan), &parts[i]) < 0)
			return 1;
	if (rf_go(producer, rf_from_ptr(number_chan), &done) < 0)
		return 1;
	rf_val sum = 0, part;
	for (int i = 0; i < TAKERS; i++) {
		if (rf_chan_take(parts[i], &part) < 0)
			return 1;
		sum += part;
		rf_chan_release(parts[i]);
	}
	rf_chan_release(done);
	rf_chan_release(number_chan);
	const rf_val want = (rf_val)COUNT * (COUNT - 1) / 2;
	printf("sum of 0..%d by %d go processes: %lld (expected %lld)\n", COUNT - 1, TAKERS,
	       (long long)sum, (long long)want);
	return sum == want ? 0 : 1;
}
