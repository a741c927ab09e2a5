/**
 * Mails up to this size are taken apart on the SMTP thread: for them the hand-over to a thread
 * costs more than the work. Low enough that hostile structure fits in little room: 2,000 levels of
 * MIME nesting (139 KB) took 41–68 ms to take apart on the loaded 2-core VM. In a module of its own
 * so that a mail thread that only prepares HTTP bodies does not load the take-apart modules
 * (mailauth and its dependencies: ~0.8 s of CPU per thread start).
 */
export const INLINE_MAX_BYTES = 64 * 1024;
