package dev.tether.websocket;

/**
 * Checks a bearer token and returns what it proves (for example a JWT's claims), or throws.
 * A method reference such as {@code jwtVerifier::verify} fits.
 *
 * @param <T> what a valid token yields
 */
@FunctionalInterface
public interface TokenVerifier<T> {

    /**
     * @param token the token as presented, without the {@code Bearer } prefix
     * @return what it proves
     * @throws Exception if the token is not acceptable; the message may reach the client, so it must
     *                   not contain secrets (any copy of the token in it is masked)
     */
    T verify(String token) throws Exception;
}
