// A lock on a whole unit (diagnoses, payments): taken while I work in it, shown to everyone else.
import { useRecord } from '../RecordContext.js';
import { useStore } from '../connection/store.js';
import { isLockable } from '@pamoja/schema';

export function useUnitLock(unitPath: string, section: string, visitId: string) {
  const { conn } = useRecord();
  const locks = useStore(conn.locks);
  const refusals = useStore(conn.lockRefusals);
  const holder = locks.find((l) => l.path === unitPath && l.userId !== conn.me.id) ?? null;
  const lockable = isLockable(unitPath);
  return {
    holder,
    refusal: refusals.get(unitPath) ?? null,
    onFocus: (): void => {
      conn.focus(section, undefined, visitId);
      if (lockable) conn.lock(unitPath);
    },
    onBlur: (): void => {
      conn.blur();
      if (lockable) conn.unlock(unitPath);
    },
  };
}
