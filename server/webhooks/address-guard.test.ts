import { isPublicAddress, PrivateAddressError, publicAddressesOf } from './address-guard';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    // IPv6 forms that reach private or loopback addresses
    '::7f00:1', // IPv4-compatible 127.0.0.1
    '::a00:1', // IPv4-compatible 10.0.0.1
    '::ffff:0:7f00:1', // SIIT
    '::ffff:0:a00:1',
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    '2002:c0a8:101::', // 6to4 of 192.168.1.1
    '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
    '64:ff9b:1::a00:1', // local-use NAT64
    'fec0::1', // site-local
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::1'])(
    'accepts %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('publicAddressesOf', () => {
  it('refuses hosts that are or resolve to non-public addresses', async () => {
    await expect(publicAddressesOf('127.0.0.1')).rejects.toBeInstanceOf(PrivateAddressError);
    await expect(publicAddressesOf('[::1]')).rejects.toBeInstanceOf(PrivateAddressError);
    await expect(publicAddressesOf('localhost')).rejects.toBeInstanceOf(PrivateAddressError);
  });

  it('accepts a public IP literal without resolving anything', async () => {
    await expect(publicAddressesOf('8.8.8.8')).resolves.toEqual(['8.8.8.8']);
  });
});
