import type { AppError } from "../ipc/errors";

/** Shows an AppError as the app reports it: its code and its message. */
export function ErrorBanner({ error, onDismiss }: { error: AppError | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-code={error.code}>
      <code className="error-code">{error.code}</code>
      <span className="error-message">{error.message}</span>
      {onDismiss && (
        <button className="link" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
