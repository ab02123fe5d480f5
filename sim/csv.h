/* A line-at-a-time CSV reader over a buffer, for the trace files.
 *
 * Fields are separated by commas, or by another delimiter set with
 * sim_csv_set_delimiter(); a field may be quoted with '"' and then contain
 * delimiters and doubled quotes, but not line breaks. Lines end with
 * "\n" or "\r\n". Lines with no characters are skipped. A UTF-8 byte-order
 * mark at the start of the first line is dropped. The reader keeps line
 * numbers for error messages.
 */
#ifndef STOWAGE_SIM_CSV_H
#define STOWAGE_SIM_CSV_H

#include <stddef.h>

#include <glib.h>

#include "scoring/error.h"

typedef struct sim_csv {
	const char *name; /* borrowed: the file name used in messages */
	const char *text; /* borrowed */
	size_t length;
	size_t pos;
	int line;          /* 1-based number of the line last read */
	GPtrArray *fields; /* char *, pointing into `buffer` */
	GString *buffer;   /* the unquoted fields of the line last read */
	char delimiter;    /* ',' unless set */
} sim_csv;

/* Starts reading `text`; `name` and `text` are borrowed and must outlive
 * the reader. Release it with sim_csv_release(). */
void sim_csv_init(sim_csv *csv, const char *name, const char *text,
		  size_t length);
void sim_csv_release(sim_csv *csv);

/* Sets the field delimiter, such as '\t' for tab-separated files. It must
 * not be '"', '\r', '\n' or NUL. */
void sim_csv_set_delimiter(sim_csv *csv, char delimiter);

/* Reads the next non-empty line into csv->fields. Returns 1 when a line was
 * read, 0 at the end of the text, and -EINVAL for a malformed quoted field
 * or a NUL byte; the message names the file and line, and the reader moves
 * past that line so the caller may continue. */
int sim_csv_next(sim_csv *csv, score_error *err);

/* Splits one line that the caller read, for files read as a stream: counts
 * the line, drops a trailing "\n" or "\r\n", and fills csv->fields. A
 * reader used only this way is initialized with NULL text and length 0.
 * Returns 1 when the line was split, 0 for an empty line (counted and
 * skipped), and -EINVAL as sim_csv_next() does. */
int sim_csv_feed_line(sim_csv *csv, const char *line, size_t length,
		      score_error *err);

/* Returns field `i` of the line last read. */
static inline const char *sim_csv_field(const sim_csv *csv, size_t i)
{
	return g_ptr_array_index(csv->fields, i);
}

#endif
