/*
 * verify_unreferenced.c - count the objects that no event reaches.
 *
 * A snapshot stores the chunks of a file as it reads it, inside the
 * snapshot's transaction. When the read then fails or the file changes
 * under it, those chunks stay without a reference. Rolling them back
 * would need a savepoint per file, and the compression thread's queue
 * cannot undo its part. They are intact objects, so verify counts them
 * instead of reporting them as problems.
 */
#include <stdlib.h>

#include "bundle/verify_internal.h"

int verify_count_unreferenced(struct verify *v)
{
	uint32_t *stack = malloc((v->n_nodes + 1) * sizeof(*stack));
	size_t depth = 0;

	if (!stack) {
		v->oom = 1;
		return -1;
	}

	/* Each node is pushed once, when it is first marked, so the stack
	 * never has more than n_nodes entries. */
	for (size_t i = 0; i < v->n_events; i++) {
		const struct vevent *event = &v->events[i];

		for (uint32_t r = 0; r < event->n_refs; r++) {
			uint32_t node = v->event_refs[event->first_ref + r];

			if (node != NO_NODE && !v->nodes[node].referenced) {
				v->nodes[node].referenced = 1;
				stack[depth++] = node;
			}
		}
	}
	while (depth > 0) {
		const struct vnode *n = &v->nodes[stack[--depth]];

		for (uint32_t e = 0; e < n->n_edges; e++) {
			uint32_t child = v->edges[n->first_edge + e];

			if (child != NO_NODE && !v->nodes[child].referenced) {
				v->nodes[child].referenced = 1;
				stack[depth++] = child;
			}
		}
	}
	free(stack);

	v->report->n_unreferenced = 0;
	for (size_t i = 0; i < v->n_nodes; i++) {
		if (!v->nodes[i].referenced)
			v->report->n_unreferenced++;
	}
	return 0;
}
