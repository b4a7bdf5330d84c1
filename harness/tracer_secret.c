/*
 * tracer_secret.c - which environment variables have secret values,
 * remembered by name.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "harness/tracer_internal.h"

/* Match without regard to case, as the fingerprint does, so that a
 * secret under a name in lower case does not reach the record. */
static bool matches(const struct harness_tracer *tracer, const char *name)
{
	const char *const *p = tracer->options.secret_names;

	for (; p && *p; p++) {
		if (fnmatch(*p, name, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

/* FNV-1a, 32 bits. */
static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h;
}

/* The slot of name, or the free slot where it would go. */
static struct secret_slot *find_slot(struct secret_slot *slots,
				     const char *name, uint32_t hash)
{
	size_t i = hash % SECRET_SLOTS;

	while (slots[i].name && (slots[i].hash != hash ||
				 strcmp(slots[i].name, name) != 0))
		i = (i + 1) % SECRET_SLOTS;
	return &slots[i];
}

bool tracer_is_secret(struct harness_tracer *tracer, const char *name)
{
	uint32_t hash = name_hash(name);
	struct secret_slot *slot;

	if (!tracer->secrets)
		tracer->secrets = calloc(SECRET_SLOTS, sizeof(*slot));
	if (!tracer->secrets)
		return matches(tracer, name);

	/* The table never fills, so the probe always ends. */
	slot = find_slot(tracer->secrets, name, hash);
	if (slot->name)
		return slot->secret;
	if (tracer->n_secrets >= SECRET_SLOTS * 3 / 4)
		return matches(tracer, name);
	slot->name = strdup(name);
	if (!slot->name)
		return matches(tracer, name);
	slot->hash = hash;
	slot->secret = matches(tracer, name);
	tracer->n_secrets++;
	return slot->secret;
}

void tracer_secrets_free(struct harness_tracer *tracer)
{
	if (!tracer->secrets)
		return;
	for (size_t i = 0; i < SECRET_SLOTS; i++)
		free(tracer->secrets[i].name);
	free(tracer->secrets);
	tracer->secrets = NULL;
	tracer->n_secrets = 0;
}
