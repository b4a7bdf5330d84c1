/*
 * gate.h - the rules of "runbundle gate": what a run may do and still be
 * approved. docs/gate.md describes the file format and the defaults.
 *
 * Invariants: a parsed rules structure contains every rule, with
 * the built-in default for each key the file leaves out; a key that the
 * file sets replaces the default whole (lists are not merged). Unknown
 * keys and values of the wrong type or range are rejected, naming the
 * file and the JSON path, as the sandbox policy does.
 *
 * Memory: the strings and lists belong to the structure; release it with
 * inspect_gate_rules_release().
 *
 * Errors: functions return 0, or -1 with the message in inspect_error().
 */
#ifndef INSPECT_GATE_H
#define INSPECT_GATE_H

#include <stddef.h>
#include <stdint.h>

struct inspect_gate_list {
	char **items;
	size_t count;
};

struct inspect_gate_rules {
	int64_t max_files_changed;	   /* -1: no limit */
	struct inspect_gate_list protected_paths;
	struct inspect_gate_list allowed_paths;
	struct inspect_gate_list denied_commands;
	int allow_network;		   /* attempts through the proxy */
	int require_complete;
	int require_identical;		   /* a replay recorded no
					    * divergence */
	int allow_timeout;		   /* the policy's wall-clock limit
					    * may end the run */
	int allow_failure;		   /* the agent may exit nonzero or
					    * be killed */
};

/* Fill rules with the built-in defaults. */
int inspect_gate_rules_default(struct inspect_gate_rules *rules);

/* Parse a rules file (its name is used in messages) over the defaults. */
int inspect_gate_rules_load(struct inspect_gate_rules *rules,
			    const char *path);

/* Parse rules from text; name is what messages call the source. */
int inspect_gate_rules_parse(struct inspect_gate_rules *rules,
			     const char *name, const char *text, size_t len);

void inspect_gate_rules_release(struct inspect_gate_rules *rules);

/*
 * Match a path from the workspace root against a pattern, as the rules
 * do: a pattern without '/' is matched against the base name, one with
 * '/' against the whole path (FNM_PATHNAME) and everything below what it
 * matches (FNM_LEADING_DIR). A leading '/' only anchors the pattern. A
 * pattern that starts with "**" and a '/' matches the rest from any
 * directory, the root included, as in .gitignore.
 */
int inspect_gate_path_match(const char *pattern, const char *path);

/* inspect_gate_path_match() in any letter case, for protected_paths: a
 * case-insensitive file system (vfat, an ext4 casefold directory) takes
 * .GIT/hooks for .git/hooks, and a protection that misses a path costs
 * more than one that covers too many. */
int inspect_gate_protected_match(const char *pattern, const char *path);

/*
 * Return nonzero when a pattern with '/' covers a path below path, as
 * "/.github/workflows" covers one below ".github", in any letter case as
 * inspect_gate_protected_match(). A symlink at such a path moves what
 * the pattern protects to a place that it does not.
 */
int inspect_gate_path_above(const char *pattern, const char *path);

/* Nonzero when a command (the executable's path or argv[0]) matches a
 * denied pattern: a pattern without '/' is matched against the base
 * name, one with '/' against the whole path. */
int inspect_gate_command_match(const char *pattern, const char *command);

#endif
