//! SQL in, Postgres text out: one check per function/operator/cast, with NULL and error cases.

use super::tests::rows;

/// Runs each query and compares its rows (as Postgres text, space-separated) with the expectation.
async fn check(cases: &[(&str, &str)]) {
    let mut failures = vec![];
    for (sql, want) in cases {
        match rows(sql).await {
            Ok(got) if got == *want => {}
            Ok(got) => failures.push(format!("{sql}\n  want: {want}\n  got:  {got}")),
            Err(e) => failures.push(format!("{sql}\n  want: {want}\n  error: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Each query must fail with an error containing the text.
async fn check_err(cases: &[(&str, &str)]) {
    let mut failures = vec![];
    for (sql, want) in cases {
        match rows(sql).await {
            Ok(got) => failures.push(format!("{sql}\n  want error: {want}\n  got: {got}")),
            Err(e) if e.to_string().contains(want) => {}
            Err(e) => failures.push(format!("{sql}\n  want error: {want}\n  error: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn strings() {
    check(&[
        ("select concat('a', 'b')", "ab"),
        ("select concat(NULL)", ""),
        ("select concat(1, 1.01, 'A', true, NULL)", "11.01At"),
        ("select concat_ws(',', 1, 'a', NULL, true)", "1,a,t"),
        ("select concat_ws(NULL, 1, 2)", "NULL"),
        ("select 'a' || 1 a, 1 || 'a' b, 'a' || true c", "a1 1a atrue"),
        ("select 'a' || NULL", "NULL"),
        ("select format('Testing %s, %s, %s, %%', 'one', 'two', 'three')", "Testing one, two, three, %"),
        ("select format('%s%s', 'Hello', null)", "Hello"),
        ("select format(null, 'a')", "NULL"),
        ("select format('%I|%L|%L|%2$s', 'Foo', 'O''R', null)", "\"Foo\"|'O''R'|NULL|O'R"),
        ("select quote_ident('Foo bar') a, quote_ident('foo') b, quote_literal(42) c, quote_nullable(null) d", "\"Foo bar\" foo '42' NULL"),
        ("select quote_literal(null)", "NULL"),
        ("select crc32(''::bytea) a, crc32('\\x00'::bytea) b, crc32('123456789'::bytea) c", "0 3523407757 3421780262"),
        ("select crc32c('\\x00'::bytea) a, crc32c('123456789'::bytea) b, crc32c(NULL::bytea) c", "1383945041 3808858755 NULL"),
        ("select btrim('\\x1234567890'::bytea, '\\x9012'::bytea) a, ltrim('\\x1234567890'::bytea, '\\x9012'::bytea) b, rtrim('\\x1234567890'::bytea, '\\x9012'::bytea) c", "\\x345678 \\x34567890 \\x12345678"),
        ("select btrim('1'::bytea, '1'::bytea) a, rtrim(''::bytea, '1'::bytea) b, btrim(NULL::bytea, '\\x01'::bytea) c", "\\x \\x NULL"),
        ("select trim(both 'cba' from 'abcxyzabc') a, trim(leading 'cba' from 'abcxyzabc') b, trim(trailing 'cba' from 'abcxyzabc') c", "xyz xyzabc abcxyz"),
        ("select btrim('xxaxx', 'x') a, ltrim('  a') b, rtrim('a  ') c", "a a a"),
        ("select pg_typeof(1) a, pg_typeof(1.5) b, pg_typeof('a'::varchar) c, pg_typeof(1::int2) d, pg_typeof(array[array[1]]) e", "bigint numeric character varying smallint integer[][]"),
        ("select pg_typeof(null)", "unknown"),
        ("select length('😇') a, length('😇'::bytea) b, bit_length('😇') c, bit_length('😇'::bytea) d, octet_length('a'::varchar::bytea) e", "1 4 32 32 1"),
        ("select length(null::varchar)", "NULL"),
        ("select 'foobar' similar to '%#\"o_b#\"%' escape '#' a, 'foobar' similar to '%#\"o_b#\"%' b, 'foo%bar' similar to 'foo\\%bar' escape '\\' c", "t f t"),
        ("select 'abc' similar to 'ab%' a, 'abc' not similar to '(b|c)%' b, null similar to 'a' c", "t t NULL"),
        ("select regexp_split_to_array('hello  world', '\\s+') a, regexp_split_to_array('abc', '') b", "{hello,world} {a,b,c}"),
        ("select regexp_split_to_array(null, 'a')", "NULL"),
    ])
    .await;
    check_err(&[
        ("select concat()", "does not exist"),
        ("select format('%s %s', 'Hello')", "too few arguments for format()"),
        ("select format('%x', 'a')", "unrecognized format() type specifier"),
        ("select format('%I', null)", "cannot be formatted as an SQL identifier"),
        ("select crc32(123)", "does not exist"),
        ("select crc32('hello'::varchar)", "does not exist"),
        ("select regexp_split_to_array('a', '(')", "invalid regular expression"),
    ])
    .await;
}

#[tokio::test]
async fn math() {
    check(&[
        ("select sind(30) a, cosd(60) b, tand(45) c, cotd(45) d, sind(0) e", "0.5 0.5 1 1 0"),
        ("select tand(90) a, tand(-90) b, tand(270) c, tand(-270) d, cotd(90) e", "Infinity -Infinity -Infinity Infinity 0"),
        ("select asind(1) a, acosd(-1) b, atand(1) c, atand(10) d, atan2d(0, -1) e", "90 180 45 84.28940686250037 180"),
        ("select sind('Inf') a, cosd('NaN') b, atand('-Inf') c, asind(2) d", "NaN NaN -90 NaN"),
        ("select sind(null::float8) a, atan2d(null, 1) b", "NULL NULL"),
        ("select abs(coth(1) - 1.3130352854993312) < 1e-14 a, abs(cot(1) - 0.6420926159343308) < 1e-14 b, degrees(pi()) c", "t t 180"),
        ("select round(-5.5) a, round(5.5) b, round(4.5::float8) c, round(4) d, round(42.4382) e", "-6 6 4 4 42"),
        ("select round(1.1987::numeric, 2) a, round(4.6543::numeric, 1) b, round(1.165::numeric, -1) c, round(1.5, null) d", "1.20 4.7 0 NULL"),
        ("select trunc(-5.6) a, trunc(1.567, 2) b, trunc(-0.5::float8) c, ceil(4.2) d, floor(-4.2) e, ceil(-0.5::float8) f", "-5 1.56 -0 5 -5 -0"),
        ("select round(null::numeric) a, ceil(null::float8) b", "NULL NULL"),
        ("select scale(8.4100) a, min_scale(8.4100) b, trim_scale(8.4100) c, scale(null::numeric) d", "4 2 8.41 NULL"),
        ("select sqrt(82416.3252::decimal) a, sqrt('1004.3') b, sqrt(4) c, cbrt(27.0) d", "287.0824362443651829 31.690692639953454 2 3"),
        ("select pg_typeof(sqrt(null::decimal)) a, pg_typeof(sqrt(null::int)) b, pg_typeof(cbrt(null::decimal)) c", "numeric double precision double precision"),
        ("select abs(sqrt(82416.3252::decimal) - 287.08243624436518286386154499) < 1e-15", "t"),
        ("select mod(7, 3) a, mod(-7, 3) b, mod(7.5, 2) c, div(7, 2) d, div(-7.5, 2) e", "1 -1 1.5 3 -3"),
        ("select mod(null, 3) a, div(1, null) b", "NULL NULL"),
        ("select sign(-3) a, sign(2.5) b, sign(0.0::float8) c, sign(null::numeric) d", "-1 1 0 NULL"),
        ("select width_bucket(5.35, 0.024, 10.06, 5) a, width_bucket(-1, 0, 10, 5) b, width_bucket(10, 0, 10, 5) c, width_bucket(3, 10, 0, 5) d", "3 0 6 4"),
    ])
    .await;
    check_err(&[
        ("select sqrt(-1)", "cannot take square root of a negative number"),
        (
            "select sqrt(-1::numeric)",
            "cannot take square root of a negative number",
        ),
        ("select mod(1, 0)", "division by zero"),
        ("select div(1.5, 0)", "division by zero"),
        (
            "select width_bucket(1, 0, 0, 5)",
            "lower bound cannot equal upper bound",
        ),
        ("select width_bucket(1, 0, 1, 0)", "count must be greater than zero"),
        (
            "select sind('a'::varchar)",
            "invalid input syntax for type double precision",
        ),
        ("select round(true)", "does not exist"),
    ])
    .await;
}

#[tokio::test]
async fn casts() {
    check(&[
        ("select 1.5::int a, 2.5::int b, -2.5::int c, 1.5::float8::int d, 2.5::float8::int e, (-0.5)::decimal::int f", "2 3 -3 2 2 -1"),
        ("select ' 12 '::int a, 3.7::smallint b, '-32768'::decimal::int2 c, '-9223372036854775808'::int8 d", "12 4 -32768 -9223372036854775808"),
        ("select 1::bool a, 0::bool b, true::int c, 'yes'::bool d, ' on '::boolean e, 'f'::bool f", "t f 1 t t f"),
        ("select 1.5::varchar a, 1.5::float8::varchar b, true::varchar c, date '2020-01-01'::varchar d, '1e100'::float8::varchar e", "1.5 1.5 true 2020-01-01 1e+100"),
        ("select '1 day 2 hours'::interval::varchar a, '1.5 days'::interval b, '-1 year -2 mons'::interval c", "1 day 02:00:00 1 day 12:00:00 -1 years -2 mons"),
        ("select '1.23e-3'::decimal a, '  2. '::decimal b, 'inf'::float8 c, '-Infinity'::float4 d, ' nan'::float8 e", "0.00123 2 Infinity -Infinity NaN"),
        ("select '\\xDeAdBeEf'::bytea a, '\\x De Ad '::bytea b, 'De\\123d'::bytea c, 'a'::bytea::varchar d", "\\xdeadbeef \\xdead \\x44655364 \\x61"),
        ("select '{1, 2, 3}'::int[] a, '{{1},{2}}'::int[][] b, '{a b, \"c,d\", NULL}'::varchar[] c", "{1,2,3} {{1},{2}} {\"a b\",\"c,d\",NULL}"),
        ("select array[1.4,2.5,3.6]::int[] a, array['1','2','3']::int[] b, array['a', 'b']::varchar c", "{1,3,4} {1,2,3} {a,b}"),
        ("select array[array[1,2.4],array[3,4.7],null,array[null]::int[]]::int[][]", "{{1,2},{3,5},NULL,{NULL}}"),
        ("select '2020-01-01 12:00:00+02'::timestamptz a, '2020-01-01 12:00'::timestamp b, '10:13:36.07'::time c, '2001-02-03'::date d", "2020-01-01 10:00:00+00:00 2020-01-01 12:00:00 10:13:36.070 2001-02-03"),
        ("select '2022-01-01 00:00:00+00:00'::timestamptz::date a, '2022-01-01 10:00:00+00:00'::timestamptz::timestamp b, date '2020-01-01'::timestamptz c", "2022-01-01 2022-01-01 10:00:00 2020-01-01 00:00:00+00:00"),
        ("select null::int::varchar a, null::varchar::int b, cast(null as bool[]) c", "NULL NULL NULL"),
        ("select date('2030-03-30') a, date(null) b", "2030-03-30 NULL"),
        ("select '2023-11-05 08:40:00Z'::timestamptz AT TIME ZONE 'US/Pacific' a, '2023-11-05 09:40:00Z'::timestamptz AT TIME ZONE 'US/Pacific' b", "2023-11-05 01:40:00 2023-11-05 01:40:00"),
        ("select '2023-11-05 01:40:00'::timestamp AT TIME ZONE 'US/Pacific'", "2023-11-05 09:40:00+00:00"),
    ])
    .await;
    check_err(&[
        ("select 'x'::int", "invalid input syntax for type integer: \"x\""),
        ("select array['1','2','a']::int[]", "invalid digit found in string"),
        ("select '1.5'::int", "invalid input syntax for type integer"),
        ("select '99999'::int2", "out of range for type smallint"),
        ("select 32767.5::smallint", "smallint out of range"),
        ("select '9223372036854775807.5'::decimal::int8", "bigint out of range"),
        ("select 1e20::float8::int8", "bigint out of range"),
        ("select 'maybe'::bool", "invalid input syntax for type boolean"),
        ("select 'abc'::float8", "invalid input syntax for type double precision"),
        ("select '1e29'::float4::decimal", "out of range"),
        ("select '\\xDeAdBeEx'::bytea", "invalid hexadecimal digit"),
        ("select 'a\\9'::bytea", "invalid input syntax for type bytea"),
        ("select '{1,2'::int[]", "malformed array literal"),
        ("select '2000-13-03'::date", "out of range"),
        ("select 'soon'::timestamp", "invalid input syntax for type timestamp"),
        (
            "select '1 fortnight'::interval",
            "invalid input syntax for type interval",
        ),
        ("select date(1)", "cannot cast type \"bigint\" to \"date\""),
        ("select 'inf'::decimal", "numeric NaN/Infinity"),
        ("select 'NaN'::float8::numeric", "numeric NaN/Infinity"),
    ])
    .await;
}

#[tokio::test]
async fn datetimes() {
    check(&[
        ("select extract(epoch from timestamp '2001-02-16 20:38:40') a, extract(dow from timestamp '2001-02-16 20:38:40') b, extract(doy from date '2001-02-16') c", "982355920.000000 5 47"),
        ("select extract(isodow from date '2001-02-18') a, extract(week from date '2001-02-16') b, extract(quarter from date '2001-02-16') c, extract(millennium from date '2001-02-16') d, extract(century from date '2000-12-31') e", "7 7 1 3 20"),
        ("select extract(hour from time '12:34:56') a, extract(epoch from interval '1 day 2 hours') b, extract(second from timestamp '2001-02-16 20:38:40.5') c", "12 93600.000000 40.500000"),
        ("select extract(day from '2023-06-01 00:00:00Z'::timestamptz) a, round(extract(julian from '2023-06-01 00:00:00Z'::timestamptz), 5) b, extract(timezone from '2023-06-01 00:00:00Z'::timestamptz) c", "1 2460097.00000 0"),
        ("select extract(year from null::date) a, date_part('year', date '2020-05-06') b, date_part('epoch', timestamp '2020-01-01') c", "NULL 2020 1577836800"),
        ("select date_trunc('hour', timestamp '2023-01-01 12:34:56') a, date_trunc('week', date '2023-01-05') b, date_trunc('day', interval '3 days 4 hours') c", "2023-01-01 12:00:00 2023-01-02 00:00:00 3 days"),
        ("select date_trunc('hour', '2023-04-01 15:58:00Z'::timestamptz, 'Australia/South') a, date_trunc('hour', '2023-04-01 16:58:00Z'::timestamptz, 'Australia/South') c, date_trunc('day', '2023-09-03 12:00:00Z'::timestamptz, 'America/Santiago') b", "2023-04-01 15:30:00+00:00 2023-04-01 16:30:00+00:00 2023-09-03 04:00:00+00:00"),
        ("select extract(epoch from date_trunc('day', '2023-11-05 01:40:00-08:00'::timestamptz, 'US/Pacific'))", "1699167600.000000"),
        ("select date_trunc('month', null::timestamp)", "NULL"),
        ("select to_char(timestamp '2002-04-20 17:31:12.66', 'HH12:MI:SS') a, to_char(timestamp '2006-01-02 15:04:05.3', 'yyyy-mm-dd hh24:mi:ss.ms') b", "05:31:12 2006-01-02 15:04:05.300"),
        ("select to_char(to_timestamp(1617235200), 'Mon DD, YYYY HH12:MI:SS am TZH:TZM') a, to_char(date '2020-01-02', 'FMDay, DDth') b", "Apr 01, 2021 12:00:00 am +00:00 Thursday, 02nd"),
        ("select to_char('-23:22:57.124562'::interval, 'HH12 MI SS MS US') a, to_char(12345.678, '99999.99') b", "-11 -22 -57 -124 -124562  12345.68"),
        ("select to_char(null::timestamp, 'YYYY') a, to_char(timestamp '2020-01-01', null) b", "NULL NULL"),
        ("select to_timestamp(1617235200) a, to_timestamp('2022/12/25 10:24:33', 'YYYY/MM/DD HH12:MI:SS') b", "2021-04-01 00:00:00+00:00 2022-12-25 10:24:33+00:00"),
        ("select to_timestamp('2021/12/30 14:52:49 +03:30', 'YYYY/MM/DD HH24:MI:SS TZH:TZM') a, to_timestamp('2001-04-17 00:00:00.906', 'YYYY-MM-DD HH24:MI:SS.MS') b", "2021-12-30 11:22:49+00:00 2001-04-17 00:00:00.906+00:00"),
        ("select to_date('2022-01-05', 'YYYY-MM-DD') a, to_date('05 Jan 2022', 'DD Mon YYYY') b, to_timestamp(null::float8) c", "2022-01-05 2022-01-05 NULL"),
        ("select make_date(2024, 1, 26) a, make_date(-5, 2, 29) b, make_time(14, 20, 26) c, make_timestamp(2024, 1, 26, 14, 20, 26.5) d", "2024-01-26 0005-02-29 BC 14:20:26 2024-01-26 14:20:26.500"),
        ("select make_timestamptz(1973, 07, 15, 08, 15, 55.33) a, make_timestamptz(2010, 2, 27, 3, 45, 00, 'Europe/Prague') b", "1973-07-15 08:15:55.330+00:00 2010-02-27 02:45:00+00:00"),
        ("select make_date(null, 1, 1)", "NULL"),
        ("select timezone('Europe/Moscow', '2011-03-27 02:00:00'::timestamp) a, timezone('Europe/Moscow', '2014-10-26 01:00:00'::timestamp) b, timezone('Asia/Shanghai', '2024-11-20 20:00:00 UTC'::timestamptz) c", "2011-03-26 23:00:00+00:00 2014-10-25 22:00:00+00:00 2024-11-21 04:00:00"),
        ("select age(timestamp '2001-04-10', timestamp '1957-06-13') a, age(timestamp '1957-06-13', timestamp '2001-04-10') b", "43 years 9 mons 27 days -43 years -9 mons -27 days"),
        ("select justify_days(interval '35 days') a, justify_hours(interval '27 hours') b, justify_interval(interval '1 mon -1 hour') c", "1 mon 5 days 1 day 03:00:00 29 days 23:00:00"),
        ("select timestamp '2001-03-16 23:38:45' - timestamp '2001-02-16 20:38:40' a, '2005-10-30 13:22:00-05:00'::timestamptz - '2005-10-29 13:22:00-04:00'::timestamptz b", "28 days 03:00:05 1 day 01:00:00"),
    ])
    .await;
    check_err(&[
        (
            "select make_date(2013, 2, 30)",
            "Invalid parameter year, month, day: invalid date: 2013-2-30",
        ),
        ("select make_date(-4, 2, 29)", "invalid date: -3-2-29"),
        ("select make_date(0, 7, 15)", "invalid date: 0-7-15"),
        (
            "select make_time(24, 0, 2.1)",
            "Invalid parameter hour, min, sec: invalid time: 24:0:2.1",
        ),
        (
            "select make_timestamptz(1973, 07, 15, 08, 15, -55.33)",
            "Invalid parameter sec: invalid sec: -55.33",
        ),
        (
            "select make_timestamptz(1910, 12, 24, 0, 0, 0, 'Nehwon/Lankhmar')",
            "'Nehwon/Lankhmar' is not a valid timezone",
        ),
        (
            "select to_char('1 year'::interval, 'Mon')",
            "invalid format specification for an interval value",
        ),
        (
            "select to_char('1 year'::interval, 'HH TZH:TZM')",
            "invalid format specification for an interval value",
        ),
        (
            "select to_timestamp('2001-04-17 00:00:00.9', 'YYYY-MM-DD HH24:MI:SS.MS')",
            "invalid value",
        ),
        (
            "select to_timestamp('2021/12/30 14:52:49 +330', 'YYYY/MM/DD HH24:MI:SS TZHTZM')",
            "invalid value",
        ),
        ("select to_timestamp('2022-13-01', 'YYYY-MM-DD')", "out of range"),
        (
            "select date_trunc('fortnight', timestamp '2020-01-01')",
            "not supported",
        ),
        (
            "select extract(hour from date '2020-01-01')",
            "not supported for type date",
        ),
        (
            "select timezone('Mars/Olympus', timestamp '2020-01-01')",
            "time zone \"Mars/Olympus\" not recognized",
        ),
        ("select to_timestamp('nan'::float8)", "timestamp out of range"),
    ])
    .await;
}

#[tokio::test]
async fn arrays() {
    check(&[
        ("select array[1,2,3] || array[4,5,6] a, array[1,2,3] || 4 b, 6 || array[7,8] c", "{1,2,3,4,5,6} {1,2,3,4} {6,7,8}"),
        ("select array[array[1,2]] || array[3,4] a, array[1,2] || array[array[3,4]] b, '123'::varchar || array['abc'] c", "{{1,2},{3,4}} {{1,2},{3,4}} {123,abc}"),
        ("select array[1]::smallint[] || 1::numeric a, 1::real || array[1]::bigint[] b, array[1] || null c", "{1,1} {1,1} {1}"),
        ("select array_append(array[1]::real[], 1::numeric) a, array_prepend(1::bigint, array[1]::smallint[]) b, array_append(null::int[], 1) c", "{1,1} {1,1} {1}"),
        ("select array_cat(array[1.2], array[array[1]]) a, array_prepend(array[array[2]], array[array[array[1]]]) b, array_append(array[1], null) c", "{{1.2},{1}} {{{2}},{{1}}} {1,NULL}"),
        ("select array_ndims(array[2,3,4]) a, array_ndims(array[array[2,3], array[4,5]]) b, array_ndims(null::int[]) c, array_ndims('{{2,3},{4,5}}'::int[][]) d", "1 2 1 2"),
        ("select array_lower(array[2, 3, 4], 1) a, array_lower(array[array[2,3]], 3) b, array_upper(array[array[2, 3, 4], array[3, 4, 5]], 1) c, array_lower(array[1], null) d", "1 NULL 2 NULL"),
        ("select array_length(array[1,2,3], 1) a, array_length(array[]::int[], 1) b, cardinality(array[array[1,2],array[3,4]]) c, array_dims(array[array[1,2,3],array[4,5,6]]) d", "3 NULL 4 [1:2][1:3]"),
        ("select array_reverse(array[1, NULL, 3]) a, array_reverse(array[]::int[]) b, array_reverse(array[array[1, 2], array[3, 4]]) c", "{3,NULL,1} {} {{3,4},{1,2}}"),
        ("select array_sort(array[3, 2, NULL, 1, NULL]) a, array_sort(array['b', 'a', 'c']) b, array_sort(null::int[]) c", "{1,2,3,NULL,NULL} {a,b,c} NULL"),
        ("select array_min(array[2, 3, 5, 2, 4]) a, array_max(array[1, 7, null]) b, array_min(array[NULL, 'a', 'b']) c, array_min(array['a', '', 'c']) d", "2 7 a "),
        ("select array_min(array[date'2002-10-30', date'2017-06-18']) a, array_sum(array[1, 2, 3]) b, array_min(array[null::int]) c", "2002-10-30 6 NULL"),
        ("select array_distinct(array[1,1,2,null,null]) a, trim_array(array[1,2,3], 1) b, trim_array(null::int[], 1) c", "{1,2,NULL} {1,2} NULL"),
        ("select array_to_string(array[1,null,3], ',') a, array_to_string(array[1,null,3], ',', '*') b, array_to_string(array[true, false], '') c", "1,3 1,*,3 tf"),
        ("select string_to_array('a,b,,c', ',', '') a, string_to_array('abc', null) b, string_to_array('', ',') c, string_to_array(null, ',') d", "{a,b,NULL,c} {a,b,c} {} NULL"),
        ("select array[1,2] && array[2,3] a, array[1] && array[2] b, array[1] && null::int[] c", "t f NULL"),
        ("select array['hello', '', null, 'nULl', 'aa\"bb', 'uu,vv', 'yy zz'] a", "{hello,\"\",NULL,\"nULl\",\"aa\\\"bb\",\"uu,vv\",\"yy zz\"}"),
    ])
    .await;
    check_err(&[
        ("select array_ndims(7)", "does not exist"),
        ("select array_ndims(null)", "does not exist"),
        (
            "select array_lower(array[array[2,3], array[4,5]], true)",
            "does not exist",
        ),
        (
            "select array_upper(array[array[2, 3, 4], array[3, 4, 5]], 2)",
            "dimensions greater than 1 not supported",
        ),
        (
            "select trim_array(array[1,2], 3)",
            "number of elements to trim must be between 0 and 2",
        ),
        ("select array_append(1, 2)", "does not exist"),
        ("select array_sum(array['a'])", "does not exist"),
    ])
    .await;
}

#[tokio::test]
async fn session_time_zone() {
    let q = |sql: &'static str| async move {
        let out = super::tests::query_in_zone(sql, Some("US/Pacific"))
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(out.lines().skip(1).collect::<Vec<_>>().join("\n"))
    };
    let cases = [
        ("select '2022-01-01 00:00:00'::timestamptz", "2022-01-01 08:00:00+00:00"),
        ("select '2022-01-01 00:00:00+00:00'::timestamptz::timestamp a, '2022-01-01 00:00:00+00:00'::timestamptz::date b", "2021-12-31 16:00:00 2021-12-31"),
        ("select '2022-01-01 00:00:00'::timestamp::timestamptz", "2022-01-01 08:00:00+00:00"),
        ("select to_char(to_timestamp(1617235200), 'Mon DD, YYYY HH12:MI:SS am TZH:TZM')", "Mar 31, 2021 05:00:00 pm -07:00"),
        ("select extract(day from '2023-06-01 00:00:00Z'::timestamptz) a, extract(timezone_hour from '2023-01-01 00:00:00Z'::timestamptz) b", "31 -8"),
        ("select make_timestamptz(1973, 07, 15, 08, 15, 55.33)", "1973-07-15 15:15:55.330+00:00"),
        ("select date_trunc('day', '2023-06-01 12:00:00Z'::timestamptz)", "2023-06-01 07:00:00+00:00"),
        ("select '2022-01-01 00:00:00-08:00'::timestamptz::varchar", "2022-01-01 00:00:00-08:00"),
    ];
    let mut failures = vec![];
    for (sql, want) in cases {
        let got = q(sql).await;
        if got.as_deref() != Ok(want) {
            failures.push(format!("{sql}\n  want: {want}\n  got:  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Odd arities and argument types give results or errors, never panics.
#[tokio::test]
async fn arities() {
    let names = [
        "concat",
        "concat_ws",
        "format",
        "quote_ident",
        "quote_literal",
        "crc32",
        "btrim",
        "pg_typeof",
        "length",
        "sind",
        "atan2d",
        "round",
        "trunc",
        "ceil",
        "scale",
        "min_scale",
        "trim_scale",
        "sqrt",
        "cbrt",
        "mod",
        "div",
        "sign",
        "width_bucket",
        "extract",
        "date_part",
        "date_trunc",
        "to_char",
        "to_timestamp",
        "to_date",
        "make_date",
        "make_time",
        "make_timestamp",
        "make_timestamptz",
        "timezone",
        "age",
        "justify_days",
        "date",
        "array_cat",
        "array_append",
        "array_prepend",
        "array_ndims",
        "array_lower",
        "array_length",
        "cardinality",
        "array_dims",
        "array_sort",
        "array_reverse",
        "array_distinct",
        "trim_array",
        "array_min",
        "array_sum",
        "array_to_string",
        "string_to_array",
        "regexp_split_to_array",
        "pg_cast",
        "pg_similar_to",
        "pg_textcat",
    ];
    for name in names {
        for args in [
            "",
            "null",
            "1, 2, 3, 4, 5, 6, 7, 8",
            "'', '', ''",
            "array[1], null, 'x'",
            "null, null",
        ] {
            let sql = format!("select {name}({args})");
            let _ = rows(&sql).await;
        }
        let sql = format!("select {name}()");
        assert!(
            name.starts_with("concat") || rows(&sql).await.is_err(),
            "{sql} should fail"
        );
    }
}

#[tokio::test]
async fn aggregates() {
    check(&[
        ("select bit_and(x) a, bit_or(x) b, bit_xor(x) c, bool_and(x > 1) d, bool_or(x > 9) e, every(x > 3) f from (values (3), (7), (15)) t(x)", "3 15 11 t t f"),
        ("select string_agg(x::varchar, ',' order by x desc) a, pg_typeof(string_agg(x::varchar, ',')) b from (values (3), (7), (15)) t(x)", "15,7,3 character varying"),
        ("select string_agg(v, ',' order by v) from (values ('b'), (null), ('a')) t(v) group by 1 = 1", "a,b"),
        ("select string_agg(v, ',') from (values (null::varchar)) t(v)", "NULL"),
        ("select array_agg(x order by x desc) a, first_value(x order by x) b, last_value(x order by x) c from (values (3), (7), (15)) t(x)", "{15,7,3} 3 15"),
        ("select every(x) from (values (null::bool)) t(x)", "NULL"),
    ])
    .await;
}

#[tokio::test]
async fn e2e_triage_fixes() {
    check(&[
        ("select array_remove([1, 2, 1, 3], 1), array_replace([1, 2, 1], 1, 9)", "{2,3} {9,2,9}"),
        ("select array_remove([1, NULL, 2], NULL), array_remove([1, 1], 1)", "{1,2} {}"),
        ("select 'a' || 1 || true", "a1true"),
        ("select interval '1 hour' * 3, interval '1 day' / 2, 2 * interval '1 month'", "03:00:00 12:00:00 2 mons"),
        ("select interval '1 month' * 1.5", "1 mon 15 days"),
        ("select date '2024-01-31' + interval '1 month', date '2024-03-31' - interval '1 month'", "2024-02-29 00:00:00 2024-02-29 00:00:00"),
        ("select substr('\\x0102030405'::bytea, 2, 3), substr('hello', 2), substr('hello', 0, 3)", "\\x020304 ello he"),
        ("select substring('hello' from 2 for 2), to_char(TIMESTAMP '2024-03-05 14:07:09', 'YYYY-MM-DD HH24:MI:SS')", "el 2024-03-05 14:07:09"),
        ("select encode('hello'::bytea, 'base64'), encode('hello'::bytea, 'hex'), decode('aGVsbG8=', 'base64')", "aGVsbG8= 68656c6c6f \\x68656c6c6f"),
        ("select decode('a\\\\b\\001', 'escape'), encode('\\x615c00'::bytea, 'escape')", "\\x615c6201 a\\\\\\000"),
        ("select ln(1), log10(1000::double precision), ln(NULL)", "0 3 NULL"),
        ("select convert_from('\\x68c3a9'::bytea, 'UTF8'), convert_to('hé', 'utf8')", "hé \\x68c3a9"),
        ("select now() > '2020-01-01 00:00:00+00'::timestamptz, pg_typeof(now())", "t timestamp with time zone"),
        ("select now() = now(), now() = current_timestamp", "t t"),
        ("select int4('12'), int8(' 7 '), float8('1.5'), int2(3.6)", "12 7 1.5 4"),
    ])
    .await;
    check_err(&[
        ("select '1e300'::double precision::real", "out of range"),
        ("select interval '1 day' / 0", "division by zero"),
        ("select substr('abc', 1, -1)", "negative substring length"),
        ("select ln(0)", "cannot take logarithm of zero"),
        ("select log10(-1.0)", "cannot take logarithm of a negative number"),
        ("select DATE '2024-01-01'::int", "cannot cast type \"date\" to \"integer\""),
    ])
    .await;
}

/// A state rebuilt from an existing one (as the frontend does per statement) keeps this crate's
/// functions, not DataFusion's ones they replace.
#[tokio::test]
async fn replaced_functions_survive_state_rebuild() {
    use datafusion::execution::session_state::SessionStateBuilder;
    let ctx = crate::new_context();
    for _ in 0..8 {
        let state = SessionStateBuilder::new_from_existing(ctx.state()).build();
        let ctx2 = datafusion::prelude::SessionContext::new_with_state(state);
        let batches = ctx2
            .sql("select to_char(TIMESTAMP '2024-03-05 14:07:09', 'YYYY'), array_remove([1, 2, 1], 1)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        assert!(text.contains("2024") && text.contains("[2]"), "{text}");
    }
}

/// Casts rewritten to Postgres semantics keep the names the plan above refers to.
#[tokio::test]
async fn rewritten_cast_in_aggregate() {
    check(&[
        ("select sum(x::int) from (values ('1'), ('2')) t(x)", "3"),
        ("select sum(x::int) + 1 from (values ('1'), ('2')) t(x) having sum(x::int) > 0", "4"),
    ])
    .await;
}

#[tokio::test]
async fn variance_family() {
    check(&[
        // floats: the exact variance, in any row order (Youngs-Cramer gives 4.000000000000001
        // for some orders of these values)
        ("select var_pop(x) a, stddev_pop(x) b, var_samp(x) c from (values (9.0::float8), (2), (5), (4), (7), (4), (5), (4)) t(x)", "4 2 4.571428571428571"),
        ("select pg_typeof(var_pop(x)) a, variance(x) b, stddev(x) c from (values (1.5::float8), (2.5::float8)) t(x)", "double precision 0.5 0.7071067811865476"),
        ("select var_samp(x) a, stddev_samp(x) b, var_pop(x) c from (values (3.0::float8)) t(x)", "NULL NULL 0"),
        // beyond 256 bits: Youngs-Cramer
        ("select var_pop(x) from (values ('1e150'::float8), ('-1e150'::float8), ('1e-150'::float8)) t(x)", "6.666666666666666e+299"),
        ("select var_pop(x) from (values ('NaN'::float8), (1)) t(x)", "NaN"),
        // integers and numerics: exact, numeric results
        ("select pg_typeof(var_pop(x)) a, var_pop(x) b, var_samp(x) c, stddev_samp(x) d from (values (1), (2), (3), (4)) t(x)", "numeric 1.25 1.6666666667 1.2909944487"),
        ("select stddev_pop(x) from (values (9223372036854775807), (-9223372036854775807)) t(x)", "9223372036854775807"),
        ("select var_pop(x) a, stddev_samp(x) b from (values (1.25::numeric(10, 2)), (2.50), (3.75)) t(x)", "1.0416666667 1.25"),
        ("select var_samp(distinct x) a, count(distinct x) b from (values (1), (1), (3)) t(x)", "2 2"),
        ("select var_pop(x) from (values (null::int)) t(x)", "NULL"),
        ("select g, var_pop(x) from (values (1, 1.0::float8), (1, 3), (2, 5)) t(g, x) group by g order by g", "1 1\n2 0"),
        ("select stddev_pop(x) over (order by x rows between 1 preceding and current row) from (values (1), (3), (7)) t(x)", "0\n1\n2"),
    ])
    .await;
}

#[tokio::test]
async fn sum_and_avg_types() {
    check(&[
        ("select pg_typeof(sum(a)) a, pg_typeof(sum(b)) b, pg_typeof(sum(c)) c, pg_typeof(sum(d)) d from (values (1::int2, 1::int, 1::bigint, 1::real)) t(a, b, c, d)", "bigint bigint numeric double precision"),
        ("select sum(x) from (values (9223372036854775807), (9223372036854775807)) t(x)", "18446744073709551614"),
        ("select sum(x::int) + 1 from (values ('1'), ('2')) t(x) having sum(x::int) > 0", "4"),
        ("select pg_typeof(avg(x)) a, avg(x) b, avg(y) c from (values (1, 1::float8), (2, 2), (2, 2)) t(x, y)", "numeric 1.6666666667 1.6666666666666667"),
        ("select avg(x) from (values (1.25::numeric(10, 2)), (2.50)) t(x)", "1.875"),
    ])
    .await;
}

#[tokio::test]
async fn integer_arithmetic() {
    check(&[
        ("select pg_typeof(1 + 1) a, pg_typeof(1::int2 + 1) b, pg_typeof(1::bigint + 1) c, pg_typeof(3000000000 + 1) d", "integer integer bigint bigint"),
        ("select 2147483647::bigint + 1 a, -(-5) b, 7 / 2 c, -7 % 3 d", "2147483648 5 3 -1"),
        ("select x + 1, x * 2 from (values (1::int2), (null)) t(x)", "2 2\nNULL NULL"),
    ])
    .await;
    check_err(&[
        ("select 2147483647 + 1", "integer out of range"),
        ("select 2147483647::int + 1", "integer out of range"),
        ("select 32767::int2 + 1::int2", "smallint out of range"),
        ("select 9223372036854775807 + 1", "bigint out of range"),
        ("select (-2147483648)::int * -1", "integer out of range"),
        ("select -x from (values ((-2147483648)::int)) t(x)", "integer out of range"),
        ("select (-2147483648)::int / -1", "integer out of range"),
        ("select x / 0 from (values (1)) t(x)", "division by zero"),
    ])
    .await;
}

#[tokio::test]
async fn intervals_compare_by_span() {
    check(&[
        ("select interval '1 day' = interval '24 hours' a, interval '1 month' = interval '30 days' b, interval '1 hour' < interval '61 minutes' c", "t t t"),
        ("select interval '1 month' > interval '29 days' a, interval '1 day' <> interval '1 day 1 second' b, interval '2 days' >= '48 hours' c", "t t t"),
    ])
    .await;
}

#[tokio::test]
async fn array_literal_types() {
    check(&[
        ("select ARRAY[0.5::double precision, 1e100] a, pg_typeof(ARRAY[1::real, 1.5]) b", "{0.5,1e+100} real[]"),
        ("select pg_typeof(ARRAY[1, 2]) a, pg_typeof(ARRAY[1, 3000000000]) b, pg_typeof(ARRAY[1::int2, 2]) c, pg_typeof(ARRAY[1, 2.5]) d", "integer[] bigint[] integer[] numeric[]"),
        ("select ARRAY[1.5, 2.25] a, ARRAY[1, 2.5, null] b, ARRAY[1.50, 2.25] c", "{1.5,2.25} {1,2.5,NULL} {1.50,2.25}"),
    ])
    .await;
}

#[tokio::test]
async fn generate_series_of_timestamps() {
    check(&[
        (
            "select * from generate_series('2024-01-31 00:00:00'::timestamp, '2024-04-30'::timestamp, interval '1 month')",
            "2024-01-31 00:00:00\n2024-02-29 00:00:00\n2024-03-29 00:00:00\n2024-04-29 00:00:00",
        ),
        ("select count(*) from generate_series('2024-01-02'::timestamp, '2024-01-01'::timestamp, interval '-1 hour')", "25"),
        ("select count(*) from generate_series('2024-01-02'::timestamp, '2024-01-01'::timestamp, interval '1 hour')", "0"),
        ("select * from generate_series('2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 01:00:00+00'::timestamptz, interval '30 minutes')", "2024-01-01 00:00:00+00:00\n2024-01-01 00:30:00+00:00\n2024-01-01 01:00:00+00:00"),
        ("select * from generate_series('2024-01-01'::date, '2024-01-02'::date, interval '1 day')", "2024-01-01 00:00:00\n2024-01-02 00:00:00"),
        ("select count(*) from generate_series('2024-01-01'::timestamp, null::timestamp, interval '1 day')", "0"),
        ("select count(*) from generate_series(1, 10, 3)", "4"),
        ("select count(*) from generate_series(1, 2 + 3)", "5"),
    ])
    .await;
    check_err(&[(
        "select * from generate_series('2024-01-02'::timestamp, '2024-01-01'::timestamp, interval '0 days')",
        "step size cannot equal zero",
    )])
    .await;
}

#[tokio::test]
async fn time_windows() {
    check(&[
        ("select tumble_start('2024-01-01 10:35:00'::timestamp, interval '1 hour')", "2024-01-01 10:00:00"),
        ("select tumble_start('2024-01-01 10:35:00'::timestamp, interval '1 hour', interval '15 minutes')", "2024-01-01 10:15:00"),
        ("select tumble_start('2024-01-01 10:35:00+00'::timestamptz, interval '1 day')", "2024-01-01 00:00:00+00:00"),
        ("select tumble_start('2024-01-03'::date, interval '2 days')", "2024-01-02 00:00:00"),
        ("select tumble_start(NULL::timestamp, interval '1 hour')", "NULL"),
        ("select hop_window_starts('2024-01-01 10:35:00'::timestamp, interval '30 minutes', interval '1 hour')", "{\"2024-01-01 10:00:00\",\"2024-01-01 10:30:00\"}"),
        ("select unnest(hop_window_starts('2024-01-01 10:35:00+00'::timestamptz, interval '1 hour', interval '2 hours'))", "2024-01-01 09:00:00+00:00\n2024-01-01 10:00:00+00:00"),
    ])
    .await;
    check_err(&[
        ("select tumble_start('2024-01-01'::timestamp, interval '0 hour')", "window size must be positive"),
        ("select hop_window_starts('2024-01-01'::timestamp, interval '-1 hour', interval '2 hours')", "window slide must be positive"),
        ("select hop_window_starts('2024-01-01'::timestamp, interval '40 minutes', interval '1 hour')", "cannot be divided by window_slide"),
        ("select tumble_start('2024-01-01'::timestamp, interval '1 month')", "window size with months is not supported"),
    ])
    .await;
}

#[tokio::test]
async fn numeric_division() {
    check(&[
        // The quotient keeps DataFusion's type; it is rounded half away from zero.
        ("select 1::numeric / 3::numeric a, 2::numeric / 3::numeric b, -2::numeric / 3::numeric c", "0.33333333333333 0.66666666666667 -0.66666666666667"),
        ("select arrow_typeof(1::numeric / 3::numeric)", "Decimal128(38, 14)"),
        ("select 32323.03::numeric / 0.04::numeric", "808075.75000000000000"),
        // Operands with many fraction digits (a sum of products) no longer overflow the
        // intermediate dividend.
        (
            "select sum(a * b) / sum(a * b) r, sum(a * b) * 100.00 / sum(a) q from (values (32323.03::numeric, 0.96::numeric), (123456789.12, 0.5)) t(a, b)",
            "1.000000000000000000000000 50.01204040869768290742383477",
        ),
        ("select null::numeric / 1::numeric a, 1::numeric / null::numeric b", "NULL NULL"),
    ])
    .await;
    check_err(&[("select 1::numeric / 0::numeric", "division by zero")]).await;
}
