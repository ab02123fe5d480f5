/* Resource table, interned strings, labels and tolerations; see model.h. */
#include "scoring/model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct score_resource_table {
	GMutex lock;          /* serializes additions */
	gint count;           /* read with g_atomic_int_get() */
	char *names[SCORE_RES_MAX];
};

static const char *const fixed_resource_names[SCORE_RES_FIRST_EXTENDED] = {
	[SCORE_RES_CPU] = "cpu",
	[SCORE_RES_MEMORY] = "memory",
	[SCORE_RES_EPHEMERAL_STORAGE] = "ephemeral-storage",
	[SCORE_RES_PODS] = "pods",
};

score_resource_table *score_resource_table_new(void)
{
	score_resource_table *table = g_new0(score_resource_table, 1);

	g_mutex_init(&table->lock);
	for (int i = 0; i < SCORE_RES_FIRST_EXTENDED; i++)
		table->names[i] = g_strdup(fixed_resource_names[i]);
	table->count = SCORE_RES_FIRST_EXTENDED;
	return table;
}

void score_resource_table_free(score_resource_table *table)
{
	if (table == NULL)
		return;
	for (int i = 0; i < SCORE_RES_MAX; i++)
		g_free(table->names[i]);
	g_mutex_clear(&table->lock);
	g_free(table);
}

int score_resource_find(const score_resource_table *table, const char *name)
{
	int count = g_atomic_int_get(&table->count);

	for (int i = 0; i < count; i++) {
		if (strcmp(table->names[i], name) == 0)
			return i;
	}
	return -ENOENT;
}

int score_resource_index(score_resource_table *table, const char *name,
			 score_error *err)
{
	int index = score_resource_find(table, name);

	if (index >= 0)
		return index;

	g_mutex_lock(&table->lock);
	/* Another thread may have added it between the lookup and the lock. */
	index = score_resource_find(table, name);
	if (index < 0 && table->count < SCORE_RES_MAX) {
		index = table->count;
		table->names[index] = g_strdup(name);
		g_atomic_int_set(&table->count, index + 1);
	}
	g_mutex_unlock(&table->lock);

	if (index < 0)
		return score_fail(err, -ENOSPC,
				  "resource \"%s\" does not fit: stowage tracks at most %d "
				  "resources (%d extended ones) and all slots are taken",
				  name, SCORE_RES_MAX,
				  SCORE_RES_MAX - SCORE_RES_FIRST_EXTENDED);
	return index;
}

const char *score_resource_name(const score_resource_table *table, int index)
{
	if (index < 0 || index >= g_atomic_int_get(&table->count))
		return NULL;
	return table->names[index];
}

int score_resource_count(const score_resource_table *table)
{
	return g_atomic_int_get(&table->count);
}

const char *score_resource_format(int index, int64_t value, char *buf,
				  size_t size)
{
	static const struct {
		const char *suffix;
		int64_t factor;
	} binary[] = {
		{"Ti", 1LL << 40}, {"Gi", 1LL << 30}, {"Mi", 1LL << 20}, {"Ki", 1LL << 10},
	};

	if (index == SCORE_RES_CPU) {
		if (value % 1000 == 0)
			snprintf(buf, size, "%" PRId64, value / 1000);
		else
			snprintf(buf, size, "%" PRId64 "m", value);
		return buf;
	}

	if (index == SCORE_RES_MEMORY || index == SCORE_RES_EPHEMERAL_STORAGE) {
		for (size_t i = 0; i < G_N_ELEMENTS(binary); i++) {
			if (value != 0 && value % binary[i].factor == 0) {
				snprintf(buf, size, "%" PRId64 "%s",
					 value / binary[i].factor, binary[i].suffix);
				return buf;
			}
		}
	}

	snprintf(buf, size, "%" PRId64, value);
	return buf;
}

/* GLib 2.74's interned GRefString races: release drops the count to 0
 * before it takes the intern table's lock, so a concurrent
 * g_ref_string_new_intern() can revive a dying string and both free it.
 * One lock around both calls closes that window. */
static GMutex intern_lock;

const char *score_intern(const char *s)
{
	char *interned;

	if (s == NULL)
		return NULL;
	g_mutex_lock(&intern_lock);
	interned = g_ref_string_new_intern(s);
	g_mutex_unlock(&intern_lock);
	return interned;
}

void score_unintern(const char *s)
{
	if (s == NULL)
		return;
	g_mutex_lock(&intern_lock);
	g_ref_string_release((char *)(uintptr_t)s);
	g_mutex_unlock(&intern_lock);
}

static uint32_t labels_bisect(const score_labels *labels, const char *key,
			      bool *found)
{
	uint32_t low = 0;
	uint32_t high = labels->count;

	*found = false;
	while (low < high) {
		uint32_t mid = low + (high - low) / 2;
		int cmp = strcmp(labels->items[mid].key, key);

		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

void score_labels_set(score_labels *labels, const char *key, const char *value)
{
	bool found;
	uint32_t at = labels_bisect(labels, key, &found);

	if (found) {
		score_unintern(labels->items[at].value);
		labels->items[at].value = score_intern(value);
		return;
	}

	labels->items = g_renew(score_label, labels->items, labels->count + 1);
	memmove(&labels->items[at + 1], &labels->items[at],
		(labels->count - at) * sizeof(labels->items[0]));
	labels->items[at].key = score_intern(key);
	labels->items[at].value = score_intern(value);
	labels->count++;
}

const char *score_labels_get(const score_labels *labels, const char *key)
{
	bool found;
	uint32_t at = labels_bisect(labels, key, &found);

	return found ? labels->items[at].value : NULL;
}

void score_labels_release(score_labels *labels)
{
	for (uint32_t i = 0; i < labels->count; i++) {
		score_unintern(labels->items[i].key);
		score_unintern(labels->items[i].value);
	}
	g_free(labels->items);
	labels->items = NULL;
	labels->count = 0;
}

/* Interned strings compare by pointer; NULL stands for "". */
static bool interned_equal(const char *a, const char *b)
{
	if (a == b)
		return true;
	if (a == NULL)
		return b[0] == '\0';
	if (b == NULL)
		return a[0] == '\0';
	return strcmp(a, b) == 0;
}

bool score_toleration_matches(const score_toleration *toleration,
			      const score_taint *taint)
{
	if (toleration->effect != SCORE_EFFECT_ANY &&
	    toleration->effect != taint->effect)
		return false;

	/* An empty key with Exists tolerates every taint. */
	if (toleration->key != NULL && toleration->key[0] != '\0' &&
	    !interned_equal(toleration->key, taint->key))
		return false;

	if (toleration->op == SCORE_TOLERATION_EXISTS)
		return true;
	return interned_equal(toleration->value, taint->value);
}
