/*
 * gateway_sink.c - handing finished exchanges to the sink on a thread of
 * their own.
 *
 * The sink may be slow (it serializes the exchange and writes it to a
 * bundle or a file). Called on the connection's thread, it would delay
 * the next request on a keep-alive connection, so finished exchanges go
 * through a queue to one sink thread instead. One thread keeps them in
 * the order they finished; harness_gateway_stop() drains the queue
 * before it returns.
 */
#include <stdlib.h>

#include "harness/gateway_internal.h"

struct gateway_sink_item {
	struct harness_exchange *ex;
	struct gateway_sink_item *next;
};

static void deliver(struct harness_gateway *gw, struct harness_exchange *ex)
{
	pthread_mutex_lock(&gw->sink_lock);
	gw->config.sink.finished(gw->config.sink.ctx, ex);
	pthread_mutex_unlock(&gw->sink_lock);
}

static void *sink_main(void *arg)
{
	struct harness_gateway *gw = arg;

	pthread_mutex_lock(&gw->queue_lock);
	for (;;) {
		struct gateway_sink_item *item = gw->queue_head;

		if (!item) {
			if (gw->queue_closed)
				break;
			pthread_cond_wait(&gw->queue_cond, &gw->queue_lock);
			continue;
		}
		gw->queue_head = item->next;
		if (!gw->queue_head)
			gw->queue_tail = NULL;
		pthread_mutex_unlock(&gw->queue_lock);
		deliver(gw, item->ex);
		free(item);
		pthread_mutex_lock(&gw->queue_lock);
	}
	pthread_mutex_unlock(&gw->queue_lock);
	return NULL;
}

int gateway_sink_start(struct harness_gateway *gw)
{
	pthread_mutex_init(&gw->queue_lock, NULL);
	pthread_cond_init(&gw->queue_cond, NULL);
	gw->queue_ready = 1;
	if (!gw->config.sink.finished)
		return 0;
	if (pthread_create(&gw->sink_thread, NULL, sink_main, gw) != 0)
		return -1;
	gw->sink_running = 1;
	return 0;
}

void gateway_sink_push(struct harness_gateway *gw, struct harness_exchange *ex)
{
	struct gateway_sink_item *item = malloc(sizeof(*item));

	/* Without memory for the queue, the exchange is delivered here. */
	if (!item) {
		deliver(gw, ex);
		return;
	}
	item->ex = ex;
	item->next = NULL;
	pthread_mutex_lock(&gw->queue_lock);
	if (gw->queue_tail)
		gw->queue_tail->next = item;
	else
		gw->queue_head = item;
	gw->queue_tail = item;
	pthread_cond_signal(&gw->queue_cond);
	pthread_mutex_unlock(&gw->queue_lock);
}

void gateway_sink_stop(struct harness_gateway *gw)
{
	if (!gw->queue_ready)
		return;
	if (gw->sink_running) {
		pthread_mutex_lock(&gw->queue_lock);
		gw->queue_closed = 1;
		pthread_cond_signal(&gw->queue_cond);
		pthread_mutex_unlock(&gw->queue_lock);
		pthread_join(gw->sink_thread, NULL);
		gw->sink_running = 0;
	}
	pthread_mutex_destroy(&gw->queue_lock);
	pthread_cond_destroy(&gw->queue_cond);
	gw->queue_ready = 0;
}
