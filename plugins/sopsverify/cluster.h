/*
 * cluster.h - sopsverify's reads from the API server (cluster.c).
 */
#ifndef PLUGINS_SOPSVERIFY_CLUSTER_H
#define PLUGINS_SOPSVERIFY_CLUSTER_H

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/cluster.h"
#include "kube/client.h"
#include "kube/objects.h"
#include "verify.h"

/* Secrets per LIST page; SOPSVERIFY_PAGE_SIZE overrides (tests). */
#define VS_PAGE_SIZE 1000

struct vs_judge_opts {
	bool compare_values;	/* --decrypt */
	bool fingerprints;	/* -v 2 */
};

/* Wipes every string of a tree (Secret data), then deletes it. */
void vs_json_wipe_delete(cJSON *j);

long vs_page_size(void);

/* The source's kind, name and revision into sum (failures: a warning). */
int vs_fill_source(struct kube_client *kc, const cJSON *ks,
		   struct vs_ks_summary *sum, struct vs_set *set);

/*
 * Judges every manifest of the set: one LIST of Secrets per namespace.
 * A namespace whose LIST fails gives ERROR verdicts naming the reason.
 * Returns 0, or -1 only when out of memory.
 */
int vs_judge_all(struct kube_client *kc, struct vs_set *set,
		 const struct vs_judge_opts *jo);

#endif
