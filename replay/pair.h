/*
 * pair.h - which process of one run stands for which of another.
 *
 * Siblings are paired by equal argv, then by argv equal but for the
 * normalizer's volatile values, then by executable path. The rest are
 * paired by start order. So concurrent siblings that started in another
 * order are still compared with each other (see pair.c).
 */
#ifndef REPLAY_PAIR_H
#define REPLAY_PAIR_H

struct harness_normalizer;
struct replay_proc;
struct replay_run;

/*
 * Pair a's processes with b's. Stores in out[i] the process of b paired
 * with a->procs[i], or NULL when b has none; out has room for
 * a->n_procs entries and points into b, so it lives as long as b.
 * With a NULL normalizer, argv must be equal byte for byte to count.
 * Returns 0, or -1 with a message from replay_error().
 */
int replay_pair_procs(const struct replay_run *a, const struct replay_run *b,
		      const struct harness_normalizer *normalizer,
		      const struct replay_proc **out);

#endif
