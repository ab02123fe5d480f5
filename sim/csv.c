/* Line-at-a-time CSV reading; see csv.h. */
#include "sim/csv.h"

#include <errno.h>
#include <string.h>

void sim_csv_init(sim_csv *csv, const char *name, const char *text,
		  size_t length)
{
	memset(csv, 0, sizeof(*csv));
	csv->name = name;
	csv->text = text;
	csv->length = length;
	csv->fields = g_ptr_array_new();
	csv->buffer = g_string_sized_new(256);
	csv->delimiter = ',';
}

void sim_csv_set_delimiter(sim_csv *csv, char delimiter)
{
	g_return_if_fail(delimiter != '"' && delimiter != '\r' &&
			 delimiter != '\n' && delimiter != '\0');
	csv->delimiter = delimiter;
}

void sim_csv_release(sim_csv *csv)
{
	if (csv->fields != NULL)
		g_ptr_array_free(csv->fields, TRUE);
	if (csv->buffer != NULL)
		g_string_free(csv->buffer, TRUE);
	memset(csv, 0, sizeof(*csv));
}

/* Splits one line (without its line break) into NUL-separated fields in
 * csv->buffer and records their offsets in `offsets`. */
static int split_line(sim_csv *csv, const char *line, size_t length,
		      GArray *offsets, score_error *err)
{
	size_t i = 0;

	g_string_truncate(csv->buffer, 0);
	for (;;) {
		size_t start = csv->buffer->len;

		g_array_append_val(offsets, start);
		if (i < length && line[i] == '"') {
			i++;
			for (;;) {
				if (i >= length)
					return score_fail(err, -EINVAL,
							  "%s:%d: unterminated quoted field: close it with '\"'",
							  csv->name, csv->line);
				if (line[i] == '"' && i + 1 < length && line[i + 1] == '"') {
					g_string_append_c(csv->buffer, '"');
					i += 2;
				} else if (line[i] == '"') {
					i++;
					break;
				} else {
					g_string_append_c(csv->buffer, line[i++]);
				}
			}
			if (i < length && line[i] != csv->delimiter)
				return score_fail(err, -EINVAL,
						  "%s:%d: text after a quoted field: put a delimiter after the closing quote",
						  csv->name, csv->line);
		} else {
			while (i < length && line[i] != csv->delimiter) {
				if (line[i] == '"')
					return score_fail(err, -EINVAL,
							  "%s:%d: quote inside an unquoted field: quote the whole field",
							  csv->name, csv->line);
				g_string_append_c(csv->buffer, line[i++]);
			}
		}
		g_string_append_c(csv->buffer, '\0');
		if (i >= length)
			return 0;
		i++; /* the delimiter */
	}
}

/* Splits `line` (without its line break) into csv->fields. */
static int parse_line(sim_csv *csv, const char *line, size_t length,
		      score_error *err)
{
	GArray *offsets;
	int ret;

	if (length >= 2 && (unsigned char)line[0] == 0x1f && (unsigned char)line[1] == 0x8b)
		return score_fail(err, -EINVAL,
				  "%s:%d: the file is gzip-compressed: decompress it first, e.g. zcat %s > trace.csv",
				  csv->name, csv->line, csv->name);
	if (memchr(line, '\0', length) != NULL)
		return score_fail(err, -EINVAL,
				  "%s:%d: NUL byte in the line: the file is not text; if it is compressed, decompress it first (zcat, zstdcat, xzcat)",
				  csv->name, csv->line);
	offsets = g_array_new(FALSE, FALSE, sizeof(size_t));
	ret = split_line(csv, line, length, offsets, err);
	if (ret == 0) {
		g_ptr_array_set_size(csv->fields, 0);
		for (guint f = 0; f < offsets->len; f++)
			g_ptr_array_add(csv->fields,
					csv->buffer->str + g_array_index(offsets, size_t, f));
		ret = 1;
	}
	g_array_free(offsets, TRUE);
	return ret;
}

/* The UTF-8 byte-order mark that spreadsheet programs write at the start
 * of a CSV file. */
#define BYTE_ORDER_MARK "\xEF\xBB\xBF"

int sim_csv_feed_line(sim_csv *csv, const char *line, size_t length,
		      score_error *err)
{
	csv->line++;
	if (csv->line == 1 && length >= 3 && memcmp(line, BYTE_ORDER_MARK, 3) == 0) {
		line += 3;
		length -= 3;
	}
	if (length > 0 && line[length - 1] == '\n')
		length--;
	if (length > 0 && line[length - 1] == '\r')
		length--;
	if (length == 0)
		return 0;
	return parse_line(csv, line, length, err);
}

int sim_csv_next(sim_csv *csv, score_error *err)
{
	while (csv->pos < csv->length) {
		const char *line = csv->text + csv->pos;
		const char *end = memchr(line, '\n', csv->length - csv->pos);
		size_t length = end != NULL ? (size_t)(end - line) :
					      csv->length - csv->pos;
		int ret;

		csv->pos += length + (end != NULL ? 1 : 0);
		ret = sim_csv_feed_line(csv, line, length, err);
		if (ret != 0)
			return ret;
	}
	return 0;
}
