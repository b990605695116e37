package dev.tether.core;

/**
 * The terminal error of a connection whose failure was classified {@link Verdict.Kind#FATAL}:
 * retrying could not help. The message says what happened and what to do; the cause is the
 * failure that was classified.
 */
public final class FatalConnectionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Verdict verdict;

    /**
     * @param message what happened and what to do
     * @param verdict the fatal verdict
     * @param cause   the classified failure
     */
    public FatalConnectionException(String message, Verdict verdict, Throwable cause) {
        super(message, cause);
        this.verdict = verdict;
    }

    /** @return the fatal verdict */
    public Verdict verdict() {
        return verdict;
    }
}
