// "Sarah Achieng (Nurse) is typing in vital signs": a presence state as a sentence.
import { parseUnitPath, isVisitSection } from '@pamoja/schema';
import { UNIT_LABELS } from '@pamoja/permissions';
import type { Peer } from '../connection/presence-types.js';

const VERBS = { viewing: 'is viewing', editing: 'is editing', typing: 'is typing in', idle: 'is idle on' } as const;

export function sectionLabel(section: string | undefined): string {
  if (!section) return 'the record';
  if (isVisitSection(section)) return UNIT_LABELS[`visits/*/${section}`];
  const unit = parseUnitPath(section);
  return unit ? UNIT_LABELS[unit.kind] : section;
}

export function describeActivity(p: Peer, withName = true): string {
  const who = withName ? `${p.user.name} (${p.user.roleLabel}) ` : `${p.user.name} `;
  const activity = p.activity ?? 'viewing';
  if (activity === 'viewing' && !p.section) return `${who}is viewing the record`;
  const verb = activity === 'editing' ? 'is editing' : VERBS[activity];
  return `${who}${verb} ${sectionLabel(p.section)}`;
}
