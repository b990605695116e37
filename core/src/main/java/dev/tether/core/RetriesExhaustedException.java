package dev.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * The terminal error of a connection that ran out of attempts or of time (see
 * {@link ReconnectPolicy}). The cause is the last failure.
 */
public final class RetriesExhaustedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** How many attempts were made. */
    private final int attempts;

    /**
     * @param message what limit was reached and what to do
     * @param attempts how many attempts were made in the failed streak
     * @param cause the last failure
     */
    public RetriesExhaustedException(String message, int attempts, @Nullable Throwable cause) {
        super(message, cause);
        this.attempts = attempts;
    }

    /** @return how many attempts were made in the streak that exhausted the limit */
    public int attempts() {
        return attempts;
    }

    /**
     * @param t any throwable
     * @return whether {@code t} or one of its causes is a {@code RetriesExhaustedException}
     */
    public static boolean isRetriesExhausted(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof RetriesExhaustedException) {
                return true;
            }
        }
        return false;
    }
}
