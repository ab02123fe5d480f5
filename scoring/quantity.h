/* Kubernetes resource quantities ("500m", "1.5Gi", "12e-3"), parsed exactly
 * as k8s.io/apimachinery resource.ParseQuantity() accepts them and reduced
 * to the integers the scheduler compares: MilliValue() for CPU, Value() for
 * everything else. Both round away from zero, as Kubernetes does
 * ("1.0001m" is 2m, "-1.0001m" is -2m). */
#ifndef STOWAGE_SCORE_QUANTITY_H
#define STOWAGE_SCORE_QUANTITY_H

#include <stdint.h>

#include "scoring/error.h"

/* Parses `text` and stores value * 1000, rounded away from zero, in
 * `*milli`. Fails with -EINVAL for a string Kubernetes would reject, and
 * -ERANGE when the result does not fit in int64 (Kubernetes saturates or
 * wraps there); the message quotes `text`. */
int score_quantity_parse_milli(const char *text, int64_t *milli,
			       score_error *err);

/* Parses `text` and stores the value rounded away from zero in `*value`;
 * errors as above. */
int score_quantity_parse_value(const char *text, int64_t *value,
			       score_error *err);

#endif
