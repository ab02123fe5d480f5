/* Tests for sim/csv.c: field splitting, quoting, line endings and line
 * numbers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/csv.h"

Test(csv, splits_fields_and_keeps_empty_ones)
{
	static const char text[] = "a,,c\n,x,\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(csv.fields->len, 3, "got %u fields", csv.fields->len);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "a");
	cr_assert_str_eq(sim_csv_field(&csv, 1), "");
	cr_assert_str_eq(sim_csv_field(&csv, 2), "c");
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(csv.fields->len, 3, "got %u fields", csv.fields->len);
	cr_assert_str_eq(sim_csv_field(&csv, 1), "x");
	cr_assert_eq(sim_csv_next(&csv, NULL), 0, "end of text");
	sim_csv_release(&csv);
}

Test(csv, skips_blank_lines_and_counts_them)
{
	static const char text[] = "h\r\n\r\n\nrow\r\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(csv.line, 1, "got line %d", csv.line);
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(csv.line, 4, "blank lines 2 and 3 skipped: got line %d", csv.line);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "row", "CR removed");
	sim_csv_release(&csv);
}

Test(csv, last_line_without_newline)
{
	static const char text[] = "a,b";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_str_eq(sim_csv_field(&csv, 1), "b");
	cr_assert_eq(sim_csv_next(&csv, NULL), 0);
	sim_csv_release(&csv);
}

Test(csv, quoted_fields)
{
	static const char text[] = "\"a,b\",\"say \"\"hi\"\"\",\"\"\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(csv.fields->len, 3, "got %u fields", csv.fields->len);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "a,b");
	cr_assert_str_eq(sim_csv_field(&csv, 1), "say \"hi\"");
	cr_assert_str_eq(sim_csv_field(&csv, 2), "");
	sim_csv_release(&csv);
}

Test(csv, malformed_quotes_name_the_line)
{
	static const char *const bad[] = {
		"ok\n\"open,x\n",
		"ok\nab\"c\n",
		"ok\n\"a\"b\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		score_error err = {0};
		sim_csv csv;
		int ret;

		sim_csv_init(&csv, "q.csv", bad[i], strlen(bad[i]));
		cr_assert_eq(sim_csv_next(&csv, NULL), 1);
		ret = sim_csv_next(&csv, &err);
		cr_assert_eq(ret, -EINVAL, "case %zu: expected -EINVAL, got %d", i, ret);
		cr_assert(strstr(err.message, "q.csv:2:") != NULL, "case %zu: %s", i,
			  err.message);
		cr_assert_eq(sim_csv_next(&csv, NULL), 0, "case %zu: reader moved on", i);
		sim_csv_release(&csv);
	}
}

Test(csv, nul_byte_rejected)
{
	static const char text[] = "a,b\nc\0d\n";
	score_error err = {0};
	sim_csv csv;

	sim_csv_init(&csv, "n.csv", text, sizeof(text) - 1);
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_eq(sim_csv_next(&csv, &err), -EINVAL);
	cr_assert(strstr(err.message, "NUL") != NULL, "message: %s", err.message);
	sim_csv_release(&csv);
}

/* Spreadsheet programs save UTF-8 CSV with a byte-order mark, which
 * would otherwise become an invisible part of the first column name. */
Test(csv, byte_order_mark_skipped)
{
	static const char text[] = "\xEF\xBB\xBFname,cpu\n\xEF\xBB\xBFx,1\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "name",
			 "mark at the start of the file dropped: got \"%s\"",
			 sim_csv_field(&csv, 0));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "\xEF\xBB\xBFx",
			 "only the file's first line may start with the mark");
	sim_csv_release(&csv);
}

Test(csv, byte_order_mark_skipped_in_stream)
{
	static const char first[] = "\xEF\xBB\xBFtime,event\r\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", NULL, 0);
	cr_assert_eq(sim_csv_feed_line(&csv, first, strlen(first), NULL), 1);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "time", "got \"%s\"", sim_csv_field(&csv, 0));
	sim_csv_release(&csv);
}

Test(csv, byte_order_mark_alone_is_an_empty_line)
{
	static const char text[] = "\xEF\xBB\xBF\nh\n";
	sim_csv csv;

	sim_csv_init(&csv, "t.csv", text, strlen(text));
	cr_assert_eq(sim_csv_next(&csv, NULL), 1);
	cr_assert_str_eq(sim_csv_field(&csv, 0), "h");
	cr_assert_eq(csv.line, 2, "the mark's line counts as line 1: got %d", csv.line);
	sim_csv_release(&csv);
}
