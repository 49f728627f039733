use shopcast_payments::crc16_ccitt_false;

#[test]
fn catalogued_check_value() {
    // CRC-16/CCITT-FALSE's catalogued check value (the CRC of "123456789").
    assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
}

#[test]
fn short_vectors() {
    assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    assert_eq!(crc16_ccitt_false(b"A"), 0xB915);
}

#[test]
fn crc_of_published_br_codes() {
    // Each published payload ends in its CRC; the CRC covers everything before the four hex
    // digits, "6304" included.
    let published = [
        // BCB, Manual de Padrões para Iniciação do Pix: static example.
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
        // BCB manual: dynamic example, as reproduced in the README of the npm package pixcode.
        "00020101021226720014br.gov.bcb.pix2550bx.com.br/pix/8b3da2f3-9a41-40d1-a91a-bd93113bd4415204000053039865406123.455802BR5913Fulano de Tal6008BRASILIA62190515RP12345678-2019630445C8",
        // A BR Code with a city longer than the 15 characters EMVCo allows (so our builder
        // refuses to make it, see pix::rejects_long_city), but whose CRC is right.
        "00020126580014br.gov.bcb.pix0136bee05743-4291-4f3c-9259-595df1307ba1520400005303986540510.005802BR5914Alexandre Lima6019Presidente Prudente62180514Um-Id-Qualquer6304D475",
    ];
    for payload in published {
        let (body, crc) = payload.split_at(payload.len() - 4);
        assert_eq!(format!("{:04X}", crc16_ccitt_false(body.as_bytes())), crc);
    }
}
