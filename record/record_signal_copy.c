/*
 * record_signal_copy.c - tell the relay's copy of a signal from a new
 * signal (record_run.h).
 *
 * A signal sent to both the relay and the recorder, as killall and
 * service managers send it, reaches the recorder twice: directly, and
 * passed on by the relay with sigqueue(), which carries the original
 * sender's pid. The two copies are paired by signal and sender, however
 * long the relay took, so that one such signal counts once. A copy that
 * pairing cannot match, such as the same signal sent to a process and
 * to its group, still counts once within 100 ms
 * (sandbox_signal_repeated()).
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "record/record_run.h"
#include "sandbox/sandbox.h"

/* Senders remembered at once, and how long a copy stays unpaired before
 * the other one counts as a signal of its own. */
#define SENDERS 8
#define PAIR_MS 5000

pid_t record_relay_pid;

struct sender {
	int sig;
	pid_t pid;
	int unpaired;	/* > 0: direct copies that wait for the relay's,
			 * < 0: the relay's that wait for direct ones */
	int64_t at_ms;	/* when unpaired last grew */
};

static struct sender senders[SENDERS];
static unsigned next_sender;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sender *sender_of(int sig, pid_t pid)
{
	struct sender *entry;

	for (unsigned i = 0; i < SENDERS; i++) {
		if (senders[i].sig == sig && senders[i].pid == pid)
			return &senders[i];
	}
	entry = &senders[next_sender++ % SENDERS];
	*entry = (struct sender){ .sig = sig, .pid = pid };
	return entry;
}

bool record_signal_is_copy(int sig, const siginfo_t *info)
{
	bool relayed = record_relay_pid > 0 && info->si_code == SI_QUEUE &&
		       info->si_pid == record_relay_pid;
	pid_t from = relayed ? info->si_value.sival_int : info->si_pid;
	int step = relayed ? -1 : 1;
	struct sender *entry = sender_of(sig, from);
	int64_t now = now_ms();

	if (now - entry->at_ms > PAIR_MS)
		entry->unpaired = 0;
	if (entry->unpaired * step < 0) {
		entry->unpaired += step;
		return true;
	}
	entry->unpaired += step;
	entry->at_ms = now;
	return sandbox_signal_repeated(sig);
}
