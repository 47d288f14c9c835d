/** The one error shape the app's commands return: a closed snake_case code and a human message. */
export interface AppError {
  code: string;
  message: string;
}

/** Normalises whatever a rejected invoke gave us into an AppError, so the UI always shows code + message. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const { code, message } = e as { code: unknown; message: unknown };
    return { code: String(code), message: String(message) };
  }
  if (e instanceof Error) return { code: "internal", message: e.message };
  return { code: "internal", message: String(e) };
}
