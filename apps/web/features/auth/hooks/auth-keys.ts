export const authKeys = {
  me: () => ["auth", "me"] as const,
  invitation: (secret: string) => ["auth", "invitation", secret] as const,
  members: () => ["auth", "members"] as const,
  invitations: () => ["auth", "invitations"] as const,
  tokens: () => ["auth", "tokens"] as const,
  audit: (action: string) => ["auth", "audit", action] as const,
};
