/**
 * JWT credentials for Tether connections, on Nimbus JOSE+JWT.
 *
 * <p>{@link dev.tether.jwt.JwtCredentialsProvider} is a {@link dev.tether.core.CredentialsProvider}
 * that hands a valid JWT to every connection attempt. Its tokens come from a
 * {@link dev.tether.jwt.JwtSigner} (self-signed), from an OAuth2 client-credentials token endpoint
 * ({@link dev.tether.jwt.ClientCredentials}) or from any {@code Mono<String>}; they are cached,
 * renewed ahead of expiry, shared by concurrent attempts and checked before use. A
 * {@link dev.tether.jwt.TokenMapping} says where the token goes (MQTT password, HTTP header, query
 * parameter).
 *
 * <p>{@link dev.tether.jwt.JwtVerifier} checks bearer tokens on the receiving side and refuses bad
 * ones with an {@link dev.tether.jwt.InvalidJwtException} naming the
 * {@linkplain dev.tether.jwt.InvalidJwtException.Reason reason}.
 *
 * <p>No token, secret or key ever appears in a log line, an exception message or a
 * {@code toString()} of this package.
 *
 * <p>Everything in this package is non-null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.tether.jwt;

import org.jspecify.annotations.NullMarked;
