// Package reports writes the reports of a reconciliation run (SPEC §11):
// discrepancies.csv, matches.csv, settlements.csv, summary.csv and
// report.xlsx.
//
// The package holds no business logic: it formats what it is given, in the
// order it is given. Discrepancies and matches are streamed one at a time so
// a run over millions of rows never holds them in memory; the summary and
// settlement rows are small and passed as slices, which are sorted (a copy)
// so their order never depends on the caller.
//
// Formatting decisions, the same in every file:
//
//   - CSV is RFC 4180 as written by encoding/csv: UTF-8 without a BOM, fields
//     quoted only when needed, and "\n" line endings (not CRLF), which every
//     spreadsheet and every Unix tool reads.
//   - Amounts are major units with exactly the currency's exponent digits,
//     '.' as separator and no grouping: "199.99", "1100", "-5.00". In the
//     XLSX they are numeric cells in an accounting format with the currency
//     and negatives in parentheses (#,##0.00_) "KES";(#,##0.00) "KES").
//   - Timestamps are RFC 3339 text in the business time zone
//     (Options.Location) in CSV; in the XLSX they are date cells holding the
//     wall-clock time in that zone, which the headings name.
//   - The CSV files keep codes (missing_in_provider, kopokopo, in); the
//     workbook shows words (Missing at provider, Kopo Kopo, In) and prints
//     landscape, one page wide, each header row repeated.
//   - Both are deterministic: the same input gives byte-identical CSV files
//     and a byte-identical workbook (its zip parts are written sorted).
//   - Text cells that begin with '=', '+', '-', '@', tab or CR are prefixed
//     with a single quote so no spreadsheet evaluates them as a formula; this
//     applies to CSV and XLSX alike. Amount and count columns are numbers and
//     are never altered, so a negative amount stays "-5.00".
//   - Phone numbers in free text (the detail column) are masked to the
//     country code and last four digits: "+254*****9999". Counterparties and
//     customer phones are never written as columns.
package reports
