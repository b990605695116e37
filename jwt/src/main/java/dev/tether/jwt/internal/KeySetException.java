package dev.tether.jwt.internal;

/**
 * A remote key set could not give a key for a token. The message names the URI and what went wrong.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class KeySetException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The set was obtained but holds no fitting key (after the one refresh allowed). */
        UNKNOWN_KEY,
        /** The set (or the discovery document) could not be fetched or parsed. */
        UNAVAILABLE
    }

    /** What went wrong. */
    private final Kind kind;

    /**
     * @param kind    what went wrong
     * @param message the explanation
     */
    public KeySetException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** @return what went wrong */
    public Kind kind() {
        return kind;
    }
}
