/** Test support: the body of a parcel-fee scam, for a campaign of copies (`sampleSpam({ html })`). */
export const PARCEL_FEE_HTML =
  '<html><body><p>Dear customer, our records show an outstanding parcel fee of 2.99 euros for your delivery. ' +
  'Your parcel is held at our depot and will be returned to the sender within 48 hours unless the fee is paid. ' +
  'Please confirm your address and pay securely at <a href="https://parcel-fee-depot.example/pay">our payment ' +
  'page</a> to release it. Thank you for choosing our delivery service.</p></body></html>';
