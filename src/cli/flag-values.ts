/**
 * Parsers for command-line flag values, one per kind of value, for commander's argParser. They throw a
 * CliError (not commander's InvalidArgumentError, whose message echoes the raw value whole): the message
 * names the flag, echoes the value bounded (describeValue) and says what is allowed; the exit code is the
 * caller's (EX_CONFIG for the daemon, so that systemd stops instead of restarting on a bad flag).
 */
import { isIP } from 'node:net';
import { describeValue } from '../config/validation.js';
import { CliError } from './errors.js';

type Parser<T> = (value: string) => T;

function refuse(flag: string, value: string, expected: string, exitCode: number): never {
  throw new CliError(`${flag}: got ${describeValue(value)}; expected ${expected}`, exitCode);
}

/** A number of seconds in [min, max] (a bound keeps setTimeout under its 2^31 ms overflow). */
export function secondsIn(flag: string, min: number, max: number, exitCode = 1): Parser<number> {
  return (value) => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max) refuse(flag, value, `seconds from ${min} to ${max}`, exitCode);
    return n;
  };
}

/** A positive integer (1, 2, ...), decimal digits only. */
export function positiveInt(flag: string, exitCode = 1): Parser<number> {
  return (value) => {
    const n = /^\d{1,15}$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) refuse(flag, value, 'a positive integer', exitCode);
    return n;
  };
}

/** A TCP port, 0 (any free port) to 65535. */
export function port(flag: string, exitCode = 1): Parser<number> {
  return (value) => {
    const n = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= 0 && n <= 65535)) refuse(flag, value, 'a TCP port from 0 (any free port) to 65535', exitCode);
    return n;
  };
}

/** An address to listen on: an IPv4 or IPv6 address, or a host name (letters, digits, dots, hyphens). */
export function listenHost(flag: string, exitCode = 1): Parser<string> {
  return (value) => {
    const name = /^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/.test(value) && !/^[\d.]+$/.test(value);
    if (isIP(value) === 0 && !name) refuse(flag, value, 'an IPv4 or IPv6 address or a host name', exitCode);
    return value;
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(flag: string, allowed: readonly T[], exitCode = 1): Parser<T> {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) refuse(flag, value, `one of ${allowed.join(', ')}`, exitCode);
    return value as T;
  };
}
