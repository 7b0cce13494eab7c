// Opening a new visit for a returning patient (receptionist), instead of registering them twice.
// The server refuses (409) when the patient's current visit is still open; we say so and link to it.
import { useState } from 'react';
import { api, ApiError } from '../session/api.js';

export function NewVisitButton({ patientId, label = 'Open a new visit', onOpened, className }: {
  patientId: string;
  label?: string;
  onOpened?: (visitId: string) => void;
  className?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; open: boolean } | null>(null);
  const click = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ id: string; visitId: string }>('POST', `/api/patients/${encodeURIComponent(patientId)}/visits`);
      onOpened?.(r.visitId);
    } catch (e) {
      setError({ message: (e as Error).message, open: e instanceof ApiError && e.status === 409 });
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="new-visit">
      <button type="button" className={className} disabled={busy} onClick={() => void click()} data-testid="new-visit">
        {label}
      </button>
      {error && (
        <span className="error" role="status" data-testid="new-visit-error">
          {error.message}.{error.open && <> <a href={`#/patients/${encodeURIComponent(patientId)}`}>Open the current visit</a></>}
        </span>
      )}
    </span>
  );
}

/** Whether a visit in this step is over, so a receptionist may open the next one. */
export const visitClosed = (status: string | null | undefined): boolean => !status || status === 'COMPLETED';
