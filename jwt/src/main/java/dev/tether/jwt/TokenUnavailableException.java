package dev.tether.jwt;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import org.jspecify.annotations.Nullable;

import java.util.Optional;

/**
 * A {@link JwtCredentialsProvider} could not supply a token for an attempt: the issuer failed (after
 * the configured retries), answered with an error, or handed out a token that must not be presented.
 *
 * <p>The attempt fails with this exception and the connection's verdict pipeline decides what
 * happens next: a permanent refusal by the issuer (bad client credentials, unknown scope) carries a
 * {@link Verdict.Kind#FATAL} suggestion; an issuer that asked for a pause ({@code Retry-After}) longer
 * than the provider's own backoff carries a {@link Verdict#retryAfter(java.time.Duration)} suggestion;
 * everything else is retried with the connection's backoff.
 * The message names the source and the problem, never the token or a secret.
 */
public final class TokenUnavailableException extends ConnectionFailedException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message   what went wrong and what to do about it; must not contain a secret
     * @param initiator who caused it: the issuer ({@link Initiator#REMOTE_PEER}) or a local check
     * @param code      the HTTP status of the token endpoint, or -1
     * @param suggested the verdict to suggest: {@link Verdict#fatal(String)} when retrying cannot help,
     *                  {@link Verdict#retryAfter(java.time.Duration)} when the issuer asked for a pause,
     *                  or null to leave it to the classifier (which retries)
     * @param cause     the last underlying failure, or null
     */
    public TokenUnavailableException(String message, Initiator initiator, int code, @Nullable Verdict suggested,
                                     @Nullable Throwable cause) {
        super(message, initiator, code, suggested, cause);
    }

    /** @return the reason the token was refused, when the failure was an unacceptable token */
    public Optional<InvalidJwtException.Reason> tokenProblem() {
        for (Throwable t = getCause(); t != null; t = t.getCause()) {
            if (t instanceof InvalidJwtException ije) {
                return Optional.of(ije.reason());
            }
        }
        return Optional.empty();
    }
}
