/* NetworkPolicies (networking.k8s.io/v1) decoded from the API server's
 * JSON into the typed form the cluster model keeps (scoring/netpol.h
 * describes the fields and their meaning). The reflector and the cluster
 * file loader put the result into the model with
 * score_model_put_network_policy().
 */
#ifndef STOWAGE_INF_NETWORK_POLICY_H
#define STOWAGE_INF_NETWORK_POLICY_H

#include <cjson/cJSON.h>

#include "scoring/error.h"
#include "scoring/netpol.h"

/* Decodes a networking.k8s.io/v1 NetworkPolicy. Fails with -EINVAL and a
 * message naming the field path and value (an unknown selector operator, a
 * port out of range, a peer with neither selectors nor ipBlock). On
 * success the caller owns one reference to `*out`. */
int inf_network_policy_decode(const cJSON *object, score_network_policy **out,
			      score_error *err);

#endif
