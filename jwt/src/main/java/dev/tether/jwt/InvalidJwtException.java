package dev.tether.jwt;

import java.util.Objects;

/**
 * A JWT was refused, for the {@linkplain #reason() reason} named.
 *
 * <p>Thrown by {@link JwtVerifier} and used as the cause of a {@link TokenUnavailableException} when
 * a token source hands out a token that must not be presented. The message says what is wrong
 * and never contains the token.
 */
public final class InvalidJwtException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a token was refused. Each reason is distinct so callers can react (and count) precisely. */
    public enum Reason {
        /** Not a JWT at all: empty, garbage, bad base64url or JSON, encrypted (JWE), too long. */
        MALFORMED,
        /** Looks like the start of a JWT but parts or signature bytes are missing. */
        TRUNCATED,
        /** Unsecured: {@code alg: none}. Never accepted. */
        UNSIGNED,
        /**
         * Signed with an algorithm this side does not accept for its keys, for example HS256 where an
         * RSA key is configured (algorithm confusion).
         */
        ALGORITHM_NOT_ALLOWED,
        /** The token names a key ({@code kid}) that is not among the configured keys. */
        UNKNOWN_KEY,
        /** The signature does not verify with any configured key. */
        BAD_SIGNATURE,
        /** {@code exp} is in the past (beyond the allowed clock skew). */
        EXPIRED,
        /** {@code nbf} or {@code iat} is in the future (beyond the allowed clock skew). */
        NOT_YET_VALID,
        /** {@code iss} is not the expected issuer. */
        WRONG_ISSUER,
        /** {@code aud} does not contain an expected audience. */
        WRONG_AUDIENCE,
        /** A required claim (such as {@code exp}) is absent. */
        MISSING_CLAIM,
        /**
         * The keys to check the signature could not be obtained: the identity provider's key set or
         * discovery document is unreachable or malformed (and no last good key set is left). Not
         * the token's fault; the message names the URI and the problem.
         */
        KEYS_UNAVAILABLE
    }

    /** Why the token was refused. */
    private final Reason reason;

    /**
     * @param reason why the token was refused
     * @param detail what exactly is wrong; must not contain the token
     */
    public InvalidJwtException(Reason reason, String detail) {
        super("JWT refused (" + Objects.requireNonNull(reason, "reason") + "): " + Objects.requireNonNull(detail, "detail"));
        this.reason = reason;
    }

    /** @return why the token was refused */
    public Reason reason() {
        return reason;
    }
}
