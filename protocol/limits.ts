/** Limits clients can rely on; the server enforces them and refuses larger input. */
export const Limits = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 256,
  titleMax: 200,
  descriptionMax: 5000,
  /** A lesson's Markdown notes. */
  notesMax: 50_000,
  tagsMax: 20,
  tagMax: 40,
  chatTextMax: 500,
  tipMessageMax: 200,
  moderationReasonMax: 200,
  questionTextMax: 300,
  idempotencyKeyMax: 255,
  likesPerEventMax: 100,
  bannedWordsMax: 200,
  slowModeSecondsMax: 3600,
  pollQuestionMax: 200,
  pollOptionMax: 80,
  pollOptionsMin: 2,
  pollOptionsMax: 6,
  pollDurationMin: 10,
  pollDurationMax: 3600,
  /** Open polls a room may have at once. */
  pollsOpenMax: 3,
  /** Links on a creator's page, their label and URL lengths. */
  profileLinksMax: 5,
  profileLinkLabelMax: 40,
  profileLinkUrlMax: 500,
  displayNameMax: 80,
} as const;
