// The audit search's pure parts: path patterns and CSV cells.

import { describe, expect, it } from 'vitest';
import { csvCell, likePrefix } from '../../apps/sync-server/src/admin/audit-query.js';

describe('audit query', () => {
  it('turns a path with * into a LIKE prefix, keeping SQL wildcards literal', () => {
    expect(likePrefix('visits/*/triage')).toBe('visits/%/triage%');
    expect(likePrefix('demographics/first_name')).toBe('demographics/first\\_name%');
    expect(likePrefix('100%')).toBe('100\\%%');
  });

  it('quotes CSV cells and defuses spreadsheet formulas, but not numbers or phone numbers', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('Fever, "high"')).toBe('"Fever, ""high"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell('+254 712 345 678')).toBe('+254 712 345 678');
  });
});
