package dev.tether.core;

import java.io.IOException;
import java.util.Optional;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * An attempt failed or a session ended, for a reason the protocol can name: a refused CONNACK,
 * a close frame, a refused upgrade, a keepalive timeout.
 *
 * <p>Carries who caused it, the protocol code when there is one, and optionally the verdict the
 * protocol suggests (which the default classifier applies).
 */
public class ConnectionFailedException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Who caused the failure. */
    private final Initiator initiator;
    /** The protocol code that came with it, or -1. */
    private final int code;
    /** The verdict the connector suggests, if any (not serialized). */
    private final transient @Nullable Verdict suggestedVerdict;

    /**
     * @param message          what happened, and what to do about it
     * @param initiator        who caused it
     * @param code             the protocol code (CONNACK reason, close code, HTTP status), or -1 for none
     * @param suggestedVerdict the verdict the protocol suggests, or null to leave it to the classifier
     * @param cause            the underlying failure, or null
     */
    public ConnectionFailedException(String message, Initiator initiator, int code,
                                     @Nullable Verdict suggestedVerdict, @Nullable Throwable cause) {
        super(message, cause);
        this.initiator = initiator;
        this.code = code;
        this.suggestedVerdict = suggestedVerdict;
    }

    /** @return who caused the failure */
    public Initiator initiator() {
        return initiator;
    }

    /** @return the protocol code, if there is one */
    public OptionalInt code() {
        return code < 0 ? OptionalInt.empty() : OptionalInt.of(code);
    }

    /** @return the verdict the protocol suggests, if any */
    public Optional<Verdict> suggestedVerdict() {
        return Optional.ofNullable(suggestedVerdict);
    }
}
