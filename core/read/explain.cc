#include "core/read/explain.h"

#include <cctype>
#include <cstdlib>

#include "core/base/strings.h"

namespace veta {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

const std::vector<Explanation>& RefusalTable() {
  static const std::vector<Explanation> table = {
      {"SIGNER_NOT_PARTY", "Falta la firma de una de las partes",
       "Una de las partes que la operación exige (el minero, el vendedor, el comprador, la "
       "planta) no firmó el envío con una llave registrada a su nombre. Pida a esa parte que "
       "firme con su llave y vuelva a enviarlo.",
       "A party did not sign",
       "A party the transaction requires (the miner, the seller, the buyer, the plant) did not "
       "sign it with a key registered in its name. Ask that party to sign with its key and "
       "submit again."},
      {"EXTRACTOR_UNKNOWN", "Minero no registrado",
       "El RUC o DNI del minero que declara la extracción no está en el registro (REINFO). "
       "Revise el número; si es correcto, el minero debe inscribirse antes de declarar.",
       "Miner not registered",
       "The miner declaring the extraction is not in the registry (REINFO). Check the number; if "
       "it is right, the miner must be registered before declaring."},
      {"EXTRACTOR_NOT_ACTIVE", "Minero suspendido o excluido",
       "El minero está suspendido o excluido del REINFO: no puede declarar extracciones mientras "
       "dure esa situación. No compre ese mineral; el minero debe regularizarse ante la DGFM.",
       "Miner suspended or excluded",
       "The miner is suspended or excluded from REINFO and may not declare extractions while it "
       "lasts. Do not buy that ore; the miner must settle its standing with the registrar."},
      {"EXTRACTOR_EXPIRED", "Inscripción del minero vencida",
       "La operación tiene fecha fuera del periodo de vigencia de la inscripción del minero. El "
       "minero debe renovar su inscripción, o la fecha declarada está equivocada.",
       "Miner's registration expired",
       "The transaction is dated outside the miner's registration period. The miner must renew "
       "its registration, or the declared date is wrong."},
      {"UNIT_UNKNOWN", "Unidad minera no registrada",
       "El código de la unidad (concesión o derecho minero) no está en el registro. Revise el "
       "código; una unidad nueva debe registrarla la DGFM antes de declarar extracciones.",
       "Mining unit not registered",
       "The unit's code (concession or mining right) is not in the registry. Check the code; a "
       "new unit must be registered by the registrar before extractions are declared."},
      {"UNIT_NOT_ACTIVE", "Unidad minera no vigente",
       "La unidad minera está suspendida o ya no está vigente: no se puede extraer de ella. "
       "Consulte su estado con la DGFM.",
       "Mining unit not in force",
       "The mining unit is suspended or no longer in force: nothing may be extracted from it. "
       "Ask the registrar about its status."},
      {"EXTRACTOR_NOT_ALLOWED_ON_UNIT", "El minero no trabaja en esa unidad",
       "El minero no es titular ni está autorizado en esa unidad minera. Declare la extracción "
       "en una unidad suya, o pida al titular que lo autorice ante la DGFM.",
       "Miner not allowed on the unit",
       "The miner neither holds nor is allowed on that unit. Declare the extraction on one of "
       "its own units, or ask the holder to have it allowed by the registrar."},
      {"POINT_OUTSIDE_UNIT", "Punto fuera de la unidad",
       "Las coordenadas de la extracción caen fuera del polígono de la unidad minera: el mineral "
       "no viene de donde se dice. Revise las coordenadas (longitud, latitud) del GPS.",
       "Point outside the unit",
       "The extraction's coordinates lie outside the unit's polygon: the ore does not come from "
       "where it is said to. Check the GPS coordinates (longitude, latitude)."},
      {"POINT_IN_PROHIBITED_ZONE", "Extracción en zona prohibida",
       "El punto de extracción está dentro de una zona donde la minería está prohibida (un "
       "territorio indígena, un área natural protegida, una zona de exclusión). Ese mineral no "
       "puede entrar a la cadena formal: no lo compre.",
       "Extraction in a prohibited zone",
       "The extraction point lies inside a zone where mining is prohibited (an indigenous "
       "territory, a protected natural area, an exclusion zone). That ore cannot enter the "
       "formal chain: do not buy it."},
      {"UNIT_CAPACITY_EXCEEDED", "Supera la capacidad de la unidad",
       "Lo declarado hoy en esa unidad supera su capacidad instalada de mineral por día. Una "
       "unidad no produce más de lo que puede: declare la cantidad real, o registre la "
       "capacidad correcta con la DGFM.",
       "Unit capacity exceeded",
       "What was declared today on that unit exceeds its installed capacity of ore a day. A unit "
       "cannot produce more than it can: declare the real quantity, or have the right capacity "
       "registered."},
      {"SELECTOR_LIMIT_EXCEEDED", "Supera el límite de la pallaquera",
       "La seleccionadora de mineral (pallaquera) declaró hoy más que su límite diario. Declare "
       "la cantidad real; el límite lo fija la DGFM.",
       "Selector's daily limit exceeded",
       "The ore selector (pallaquera) declared more today than its daily limit. Declare the real "
       "quantity; the limit is set by the registrar."},
      {"GRADE_OUT_OF_BOUNDS", "Ley del mineral fuera de rango",
       "La ley declarada (gramos de oro por tonelada) está fuera del rango admitido para la "
       "unidad. Revise el análisis del mineral.",
       "Ore grade out of bounds",
       "The declared grade (grams of gold per tonne) is outside the range allowed for the unit. "
       "Check the ore's assay."},
      {"QUANTITY_NOT_POSITIVE", "Cantidad en cero o negativa",
       "La cantidad declarada debe ser mayor que cero. Revise el peso.", "Quantity not positive",
       "The declared quantity must be above zero. Check the weight."},
      {"LOT_ID_TAKEN", "Código de lote ya usado",
       "Ya existe un lote con ese código. Cada lote nuevo necesita un código propio: use otro.",
       "Lot id already used",
       "A lot with that id already exists. Every new lot needs its own id: choose another."},
      {"LOT_UNKNOWN", "Lote inexistente",
       "No hay ningún lote con ese código. Revise el código del lote (en la guía o en el "
       "certificado).",
       "Unknown lot",
       "There is no lot with that id. Check the lot id (on the guide or the "
       "certificate)."},
      {"SELLER_DOES_NOT_HOLD_LOT", "El vendedor no tiene ese lote",
       "Según el registro, el lote no está en manos del vendedor: no puede venderlo. Compruebe "
       "a quién pertenece el lote antes de comprar.",
       "Seller does not hold the lot",
       "By the registry the lot is not the seller's: it cannot sell it. Check who holds the lot "
       "before buying."},
      {"QUANTITY_EXCEEDS_LOT", "Más de lo que queda en el lote",
       "Se quiere vender o procesar más de lo que le queda al lote. Revise la cantidad: el "
       "saldo del lote se ve con `veta lot`.",
       "More than the lot holds",
       "The sale or processing takes more than the lot has left. Check the quantity: `veta lot` "
       "shows what is left."},
      {"SELLER_UNKNOWN", "Vendedor no registrado",
       "El RUC del vendedor no está en el registro (REINFO o REPCO). No compre a quien no está "
       "registrado.",
       "Seller not registered",
       "The seller is not in the registry (REINFO or REPCO). Do not buy from an unregistered "
       "party."},
      {"SELLER_NOT_ACTIVE", "Vendedor suspendido o excluido",
       "El vendedor está suspendido, excluido o fuera de su vigencia: no puede vender. No le "
       "compre hasta que se regularice.",
       "Seller suspended or excluded",
       "The seller is suspended, excluded or outside its validity: it may not sell. Do not buy "
       "from it until its standing is restored."},
      {"BUYER_UNKNOWN", "Comprador no registrado",
       "El RUC del comprador no está en el registro (REPCO). El comprador debe inscribirse "
       "antes de comprar.",
       "Buyer not registered",
       "The buyer is not in the registry (REPCO). It must be registered before buying."},
      {"BUYER_NOT_ACTIVE", "Comprador suspendido o excluido",
       "El comprador está suspendido, excluido o fuera de su vigencia: no puede comprar.",
       "Buyer suspended or excluded",
       "The buyer is suspended, excluded or outside its validity: it may not buy."},
      {"BUYER_MAY_NOT_BUY_ORE", "Ese comprador no puede comprar mineral",
       "Solo las plantas de beneficio y los comercializadores compran mineral a los mineros; un "
       "exportador compra oro ya procesado. Venda el mineral a una planta o comercializador.",
       "Buyer may not buy ore",
       "Only processing plants and traders buy ore from miners; an exporter buys processed gold. "
       "Sell the ore to a plant or a trader."},
      {"TIME_IN_FUTURE", "Fecha en el futuro",
       "La fecha declarada es posterior a la hora actual. Revise la fecha y la hora del equipo "
       "que firmó.",
       "Dated in the future",
       "The declared time is later than now. Check the date and the clock of the device that "
       "signed."},
      {"REGISTRY_RECORD_INVALID", "Registro con datos inválidos",
       "Un dato del registro (RUC, nombre, fechas, coordenadas, capacidad) no es válido; el "
       "mensaje dice cuál. Corríjalo y vuelva a enviarlo.",
       "Invalid registry record",
       "A field of the registry record (RUC, name, dates, coordinates, capacity) is invalid; the "
       "message says which. Correct it and submit again."},
      {"NOT_A_REGISTRAR", "No firmado por un registrador",
       "Los cambios del registro (mineros, unidades, zonas, parámetros) solo los hace un "
       "registrador autorizado (por ejemplo la DGFM). Pida el cambio al registrador.",
       "Not signed by a registrar",
       "Registry changes (miners, units, zones, parameters) are made only by an authorized "
       "registrar. Ask the registrar for the change."},
      {"POINT_INVALID", "Coordenadas inválidas",
       "El punto no es una posición válida de longitud y latitud. Revise el orden (longitud "
       "primero) y los signos: en el Perú ambas son negativas.",
       "Invalid coordinates",
       "The point is not a valid longitude/latitude position. Check the order (longitude first) "
       "and the signs: in Peru both are negative."},
      {"LOT_KIND_MISMATCH", "Mineral y oro confundidos",
       "El mineral se cuenta en gramos de mineral y el oro en miligramos de oro; la operación "
       "trata un lote como si fuera del otro tipo. Use la operación que corresponde al lote.",
       "Ore and gold mixed up",
       "Ore is counted in grams of ore and gold in milligrams of gold; the transaction treats a "
       "lot as the other kind. Use the transaction that fits the lot."},
      {"LOT_VOIDED", "Lote anulado",
       "La operación que creó el lote fue anulada por una corrección: el lote ya no existe para "
       "el registro. No lo compre.",
       "Lot voided",
       "The entry that made the lot was voided by a correction: the lot no longer counts. Do not "
       "buy it."},
      {"LOT_EXPORTED", "Lote ya exportado",
       "El lote ya salió del país: no puede venderse ni procesarse otra vez en el Perú. Si lo "
       "ofrecen de nuevo, es una señal de fraude.",
       "Lot already exported",
       "The lot has left the country: it cannot be sold or processed again in Peru. Offered "
       "again, it is a sign of fraud."},
      {"PLANT_UNKNOWN", "Planta no registrada",
       "La planta de beneficio no está en el registro (REPCO). Revise el RUC.",
       "Plant not registered", "The processing plant is not in the registry. Check the RUC."},
      {"PLANT_NOT_ACTIVE", "Planta suspendida",
       "La planta está suspendida, excluida o fuera de su vigencia: no puede procesar.",
       "Plant suspended",
       "The plant is suspended, excluded or outside its validity: it may not process."},
      {"NOT_A_PLANT", "No es una planta de beneficio",
       "Solo una planta de beneficio registrada declara un procesamiento. Pida a la planta que "
       "lo declare.",
       "Not a processing plant",
       "Only a registered processing plant declares a processing. Ask the plant to declare it."},
      {"PLANT_DOES_NOT_HOLD_LOT", "La planta no tiene ese lote",
       "La planta quiere procesar un lote que no es suyo. Primero debe registrarse la compra del "
       "lote por la planta.",
       "Plant does not hold the lot",
       "The plant processes a lot it does not hold. The plant's purchase of the lot must be "
       "recorded first."},
      {"PLANT_CAPACITY_EXCEEDED", "Supera la capacidad de la planta",
       "Las toneladas de mineral procesadas hoy superan la capacidad diaria de la planta. "
       "Declare la cantidad real.",
       "Plant capacity exceeded",
       "The tonnes of ore processed today exceed the plant's daily capacity. Declare the real "
       "quantity."},
      {"MASS_BALANCE_EXCEEDED", "Sale más oro del que entró",
       "El oro fino declarado a la salida supera el oro contenido en el mineral de entrada (con "
       "la recuperación y la tolerancia admitidas): ese oro de más vendría de otro lado. "
       "Revise las cantidades y las leyes.",
       "More gold out than in",
       "The fine gold declared out exceeds the gold contained in the ore that went in (with the "
       "allowed recovery and tolerance): the extra gold would come from elsewhere. Check the "
       "quantities and grades."},
      {"PROCESSING_INVALID", "Procesamiento mal declarado",
       "El procesamiento no tiene entradas o salidas, repite un lote o declara una ley (pureza) "
       "imposible. Corrija la declaración.",
       "Invalid processing",
       "The processing has no inputs or outputs, repeats a lot, or states an impossible "
       "fineness. Correct the declaration."},
      {"EXPORTER_UNKNOWN", "Exportador no registrado",
       "El exportador no está en el registro (REPCO). Revise el RUC.", "Exporter not registered",
       "The exporter is not in the registry. Check the RUC."},
      {"EXPORTER_NOT_ACTIVE", "Exportador suspendido",
       "El exportador está suspendido, excluido o fuera de su vigencia: no puede exportar.",
       "Exporter suspended",
       "The exporter is suspended, excluded or outside its validity: it may not export."},
      {"NOT_AN_EXPORTER", "No es un exportador",
       "Solo un exportador registrado declara una exportación.", "Not an exporter",
       "Only a registered exporter declares an export."},
      {"EXPORTER_DOES_NOT_HOLD_LOT", "El exportador no tiene ese lote",
       "El exportador quiere exportar un lote que no es suyo. Primero debe registrarse su compra.",
       "Exporter does not hold the lot",
       "The exporter exports a lot it does not hold. Its purchase must be recorded first."},
      {"EXPORT_INVALID", "Exportación mal declarada",
       "Solo se exporta oro (no mineral), con país de destino y número de declaración aduanera "
       "(DAM), de un lote con saldo. Complete los datos.",
       "Invalid export",
       "Only gold (not ore) is exported, with a destination country and a customs declaration "
       "number, from a lot with something left. Fill in what is missing."},
      {"CORRECTION_TARGET_INVALID", "No hay nada que corregir",
       "La entrada que se quiere anular no existe, no es una operación o ya fue corregida. "
       "Revise el número de entrada.",
       "Nothing to correct",
       "The entry to void does not exist, is not a transaction, or was already corrected. Check "
       "the entry number."},
      {"CORRECTION_BLOCKED", "Primero corrija lo que siguió",
       "Los lotes que creó esa entrada ya se vendieron o procesaron: anule primero esas "
       "operaciones posteriores.",
       "Correct what followed first",
       "The lots that entry made have already moved on: void those later transactions first."},
      {"CORRECTION_NOT_AUTHORIZED", "Corrección sin las firmas necesarias",
       "Una corrección la firman todas las partes de la entrada, o un registrador. Reúna las "
       "firmas.",
       "Correction not authorized",
       "A correction is signed by all of the entry's parties, or by a registrar. Gather the "
       "signatures."},
      {"PRICE_INVALID", "Precio inválido",
       "El precio de la venta no puede ser negativo. Revise el monto.", "Invalid price",
       "A sale's price cannot be negative. Check the amount."},
      {"LOT_ID_INVALID", "Código de lote inválido",
       "El código de lote debe tener de 1 a 64 caracteres entre letras sin tilde, números y . _ "
       ": / # -. Cámbielo.",
       "Invalid lot id",
       "A lot id is 1 to 64 characters among unaccented letters, digits and . _ : / # -. Change "
       "it."},
      {"TIME_TOO_OLD", "Declaración demasiado tardía",
       "La fecha declarada es anterior al plazo para declarar (7 días por defecto). Una "
       "declaración más antigua necesita la firma de un registrador.",
       "Declared too late",
       "The declared time is before the declaration window (7 days by default). An older "
       "declaration needs a registrar's signature."},
      {"ENVELOPE_REPLAYED", "Envío repetido",
       "Esta misma declaración firmada ya está registrada: no se registra dos veces. Si es una "
       "operación nueva, fírmela de nuevo.",
       "Submitted twice",
       "This same signed statement is already recorded: it is not recorded twice. If it is a new "
       "transaction, sign it anew."},
      {"RECORD_VERSION_STALE", "Registro desactualizado",
       "El cambio se hizo sobre una versión del registro que ya no es la vigente (alguien lo "
       "cambió antes). Consulte la versión actual y repita el cambio.",
       "Stale record version",
       "The change was made to a version of the record that is no longer current (someone "
       "changed it first). Read the current version and make the change again."},
      {"KEY_NOT_IN_FORCE", "Llave ya no vigente",
       "Se firmó con una llave que el registro de su titular ya no lista (fue reemplazada o "
       "revocada). Firme con la llave vigente.",
       "Key no longer in force",
       "It was signed with a key its holder's record no longer lists (replaced or revoked). Sign "
       "with the current key."},
      {"KEY_REGISTRATION_REFUSED", "Registro de llave rechazado",
       "El registro de una llave lo firma la autoridad, para un titular existente y con una "
       "llave nueva. Revise quién firma y para quién.",
       "Key registration refused",
       "A key registration is signed by the authority, for an existing holder, with a new key. "
       "Check who signs and for whom."},
      {"REGISTRY_KEY_TAKEN", "Llave ya usada por otro",
       "La llave que lista este registro ya pertenece a otro titular. Cada parte tiene sus "
       "propias llaves: genere una nueva.",
       "Key already taken",
       "The key this record lists already belongs to another holder. Each party has its own "
       "keys: generate a new one."},
      {"RULES_VERSION_INVALID", "Versión de reglas no válida",
       "Los parámetros piden una versión de reglas que este servidor no tiene, o una anterior a "
       "la vigente. Actualice el servidor o corrija la versión.",
       "Invalid rules version",
       "The parameters name rules this server does not have, or lower the version in force. "
       "Upgrade the server or correct the version."},
      {"PAYMENT_METHOD_MISSING", "Falta el medio de pago",
       "La venta debe decir cómo se pagó (efectivo, transferencia, cheque...). Complételo.",
       "Payment method missing",
       "A sale must say how it was paid (cash, transfer, cheque...). Fill it in."},
      {"CORRECTION_NEEDS_REGISTRAR", "Solo un registrador puede anularla",
       "La entrada levantó una alerta: las partes no pueden anularla por su cuenta (sería "
       "borrar la alerta para declarar de nuevo limpio). Solo un registrador puede anularla, "
       "tras revisar el caso.",
       "Only a registrar may void it",
       "The entry raised a red flag: its parties cannot void it themselves (that would wash the "
       "flag away and declare again, clean). Only a registrar may void it, after looking into "
       "it."},
      {"FLAG_CLEARANCE_INVALID", "Levantamiento de alerta inválido",
       "No hay esa alerta en esa entrada, ya fue levantada, o falta el motivo. Revise la entrada "
       "y escriba el motivo.",
       "Invalid flag clearance",
       "There is no such flag on that entry, it was already cleared, or the reason is missing. "
       "Check the entry and state the reason."},
      {"DATED_BEFORE_REGISTRATION", "Fecha anterior al registro",
       "La operación tiene fecha anterior al registro de la unidad, de una de las partes o del "
       "lote mismo: no pudo ocurrir entonces. Revise la fecha.",
       "Dated before registration",
       "The transaction is dated before the unit, a party or the lot itself was registered: it "
       "cannot have happened then. Check the date."},
      {"UNIT_OVERLAPS", "Unidad superpuesta a otra",
       "El polígono de la unidad se superpone a otra unidad vigente con otro titular: el mismo "
       "terreno no puede estar registrado dos veces (una unidad «gemela» serviría para dar "
       "papeles a mineral ajeno). Revise las coordenadas.",
       "Unit overlaps another",
       "The unit's polygon overlaps another unit in force with another holder: the same ground "
       "cannot be registered twice (a twin unit would give papers to someone else's ore). Check "
       "the coordinates."},
      {"UNIT_DISTRICT_MISMATCH", "Unidad fuera de su distrito",
       "El ubigeo de la unidad no es un distrito registrado, o el polígono no cae en ese "
       "distrito. Revise el ubigeo y las coordenadas.",
       "Unit outside its district",
       "The unit's ubigeo is not a registered district, or its polygon is not in that district. "
       "Check the ubigeo and the coordinates."},
      {"UNIT_HOLDER_INVALID", "Titular de la unidad inválido",
       "El titular de la unidad no es un minero registrado y activo. Registre primero al minero.",
       "Invalid unit holder",
       "The unit's holder is not a registered, active miner. Register the miner first."},
      {"CASH_ABOVE_BANKING_LIMIT", "Pago en efectivo sobre el límite",
       "Por la Ley 28194, un pago desde S/ 2,000 (por defecto) se hace por el sistema "
       "financiero: transferencia, depósito o cheque. Pague por banco e indique el número de "
       "operación.",
       "Cash above the banking limit",
       "Under Peru's Ley 28194 a payment from S/ 2,000 (by default) goes through a bank: "
       "transfer, deposit or cheque. Pay through a bank and give the operation number."},
      {"PAYMENT_REFERENCE_MISSING", "Falta el número de operación",
       "Un pago por transferencia o cheque sobre el umbral debe indicar su número de operación "
       "bancaria. Agréguelo.",
       "Payment reference missing",
       "A transfer or cheque above the threshold must give its bank operation number. Add it."},
      {"SELF_SALE", "Venta a sí mismo",
       "El vendedor y el comprador son la misma parte (o una misma llave firma por ambos): no "
       "es una venta. Revise los RUC.",
       "Sale to oneself",
       "Seller and buyer are the same party (or one key signs for both): that is no sale. Check "
       "the RUCs."},
  };
  return table;
}

const std::vector<Explanation>& FlagTable() {
  static const std::vector<Explanation> table = {
      {"CASH_ABOVE_THRESHOLD", "Mucho efectivo",
       "Se pagó en efectivo más del umbral de los parámetros (S/ 30,000 por defecto): ese "
       "dinero no deja rastro en el sistema financiero. La venta se registró, pero un "
       "regulador la revisará.",
       "Large cash payment",
       "A sale paid in cash above the parameters' threshold (S/ 30,000 by default): the money "
       "leaves "
       "no trace in the financial system. The sale was recorded, but a regulator will look "
       "into it."},
      {"VOLUME_JUMP", "Salto de volumen",
       "El vendedor vende mucho más que su venta promedio (cinco veces por defecto): podría "
       "estar vendiendo oro ajeno a su nombre. Pida sustento del origen.",
       "Volume jump",
       "The seller sells far more than its average sale (five times by default): it may be "
       "selling other people's gold in its name. Ask for proof of origin."},
      {"POINT_IN_DETECTED_SCAR", "Punto en zona deforestada por minería",
       "El punto de extracción cae en una cicatriz minera detectada por satélite que se "
       "extiende fuera de la unidad: hay labores junto a la concesión que ningún registro "
       "cubre.",
       "Point in a detected mining scar",
       "The extraction point lies in a satellite-detected mining scar that reaches outside the "
       "unit: there are workings next to the concession that no registration covers."},
      {"LATE_DECLARATION", "Declaración tardía",
       "Se declaró más de 72 horas (por defecto) después del hecho, cuando la factura y la "
       "guía ya debían existir: una declaración hecha después puede acomodarse a oro de "
       "cualquier origen.",
       "Late declaration",
       "Declared more than 72 hours (by default) after the fact, when the invoice and the "
       "transport guide should already exist: a declaration made afterwards can be fitted to "
       "gold of any origin."},
      {"CASH_STRUCTURING", "Efectivo fraccionado",
       "Pagos en efectivo, cada uno bajo el umbral, que juntos lo superan (entre las mismas "
       "partes en un día, o de un vendedor en un día o una semana): fraccionar para no reportar "
       "es una señal de lavado. El oro de este lote no recibe certificado de oro formal.",
       "Cash structuring",
       "Cash payments, each under the threshold, above it when summed (between the same parties "
       "in a day, or by one seller in a day or a week): splitting to avoid reporting is a sign "
       "of laundering. This lot's gold gets no formal-gold certificate."},
      {"PRICE_OUT_OF_BAND", "Precio fuera de rango",
       "El precio por gramo de oro fino está fuera de la banda alrededor del precio de "
       "referencia (25 % a 150 % por defecto): muy alto mueve dinero, no oro; muy bajo, oro de "
       "quien no puede venderlo abiertamente.",
       "Price out of band",
       "The price per gram of fine gold is outside the band around the reference price (25% to "
       "150% by default): far above moves money, not gold; far below, gold sold by someone who "
       "cannot sell it openly."},
      {"CIRCULAR_TRADE", "Comercio circular",
       "El comprador ya tuvo este oro antes en la historia del lote: el oro da vueltas entre "
       "las mismas manos para fabricar un historial y un precio.",
       "Circular trade",
       "The buyer already held this gold earlier in the lot's history: gold going round the same "
       "hands builds a paper history and a price."},
      {"GRADE_JUMP", "Ley del mineral inusual",
       "La unidad declara un mineral mucho más rico que su propio historial (tres veces su ley "
       "promedio por defecto): una ley inflada en papel da papeles formales a más oro del que "
       "la unidad produce.",
       "Grade jump",
       "The unit declares ore far richer than its own history (three times its average grade by "
       "default): a grade inflated on paper gives formal papers to more gold than the unit can "
       "produce."},
  };
  return table;
}

const Explanation* Find(const std::vector<Explanation>& table, std::string_view code) {
  for (const auto& e : table) {
    if (EqualsIgnoreCase(e.code, code)) return &e;
  }
  return nullptr;
}

// Characters, not bytes: accents are two bytes in UTF-8.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void AppendTable(const std::vector<Explanation>& table, std::string* out) {
  *out += "{";
  for (size_t i = 0; i < table.size(); ++i) {
    const Explanation& e = table[i];
    *out += StrCat(i == 0 ? "\n" : ",\n", "  ", JsonQuote(e.code),
                   ": {\"es\": {\"title\": ", JsonQuote(e.title_es),
                   ", \"text\": ", JsonQuote(e.text_es),
                   "}, \"en\": {\"title\": ", JsonQuote(e.title_en),
                   ", \"text\": ", JsonQuote(e.text_en), "}}");
  }
  *out += "\n }";
}

}  // namespace

const std::vector<Explanation>& RefusalExplanations() { return RefusalTable(); }
const std::vector<Explanation>& FlagExplanations() { return FlagTable(); }

const Explanation* Explain(veta::v1::Refusal refusal) {
  if (refusal == veta::v1::REFUSAL_UNSPECIFIED) return nullptr;
  return Find(RefusalTable(), veta::v1::Refusal_Name(refusal));
}

const Explanation* Explain(veta::v1::RedFlag flag) {
  if (flag == veta::v1::RED_FLAG_UNSPECIFIED) return nullptr;
  return Find(FlagTable(), veta::v1::RedFlag_Name(flag));
}

const Explanation* ExplainCode(std::string_view code) {
  if (const Explanation* e = Find(RefusalTable(), code)) return e;
  return Find(FlagTable(), code);
}

std::string ExplainedText(std::string_view code, Lang lang, std::string_view indent,
                          size_t columns) {
  const Explanation* e = ExplainCode(code);
  if (e == nullptr) return "";
  std::string out = StrCat(indent, e->Title(lang), ".");
  size_t width = Width(out);
  std::string_view text = e->Text(lang);
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? "" : text.substr(space + 1);
    if (width + 1 + Width(word) > columns) {
      out += StrCat("\n", indent, "  ");
      width = Width(indent) + 2;
    } else {
      out += ' ';
      ++width;
    }
    out += std::string(word);
    width += Width(word);
  }
  return out + "\n";
}

std::string_view RefusalCodeOf(std::string_view message) {
  if (message.size() < 3 || message[0] != '[') return "";
  const size_t end = message.find(']');
  if (end == std::string_view::npos) return "";
  return message.substr(1, end - 1);
}

absl::StatusOr<Lang> ParseLang(std::string_view text) {
  auto starts = [&](std::string_view p) {
    return text.size() >= p.size() && EqualsIgnoreCase(text.substr(0, p.size()), p) &&
           (text.size() == p.size() || text[p.size()] == '_' || text[p.size()] == '-' ||
            text[p.size()] == '.');
  };
  if (starts("es") || EqualsIgnoreCase(text, "spanish") || EqualsIgnoreCase(text, "espanol"))
    return Lang::kEs;
  if (starts("en") || EqualsIgnoreCase(text, "english")) return Lang::kEn;
  return absl::InvalidArgumentError(
      StrCat("unknown language '", text, "': use es (español) or en (English)"));
}

absl::StatusOr<Lang> LangFromEnvironment() {
  if (const char* v = std::getenv("VETA_LANG"); v != nullptr && *v != '\0') {
    auto lang = ParseLang(v);
    if (!lang.ok())
      return absl::InvalidArgumentError(StrCat("VETA_LANG: ", lang.status().message()));
    return lang;
  }
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') continue;
    const std::string_view locale(v);
    return locale.size() >= 2 && EqualsIgnoreCase(locale.substr(0, 2), "en") ? Lang::kEn
                                                                             : Lang::kEs;
  }
  return Lang::kEs;
}

std::string ExplanationsJson() {
  std::string out = "{\"refusals\": ";
  AppendTable(RefusalTable(), &out);
  out += ",\n\"flags\": ";
  AppendTable(FlagTable(), &out);
  out += ",\n\"departments\": {";
  const auto& departments = Departments();
  for (size_t i = 0; i < departments.size(); ++i) {
    out += StrCat(i == 0 ? "" : ", ", JsonQuote(departments[i].code), ": ",
                  JsonQuote(departments[i].name));
  }
  out += "}}\n";
  return out;
}

const std::vector<Department>& Departments() {
  static const std::vector<Department> table = {
      {"01", "Amazonas"},      {"02", "Áncash"},     {"03", "Apurímac"}, {"04", "Arequipa"},
      {"05", "Ayacucho"},      {"06", "Cajamarca"},  {"07", "Callao"},   {"08", "Cusco"},
      {"09", "Huancavelica"},  {"10", "Huánuco"},    {"11", "Ica"},      {"12", "Junín"},
      {"13", "La Libertad"},   {"14", "Lambayeque"}, {"15", "Lima"},     {"16", "Loreto"},
      {"17", "Madre de Dios"}, {"18", "Moquegua"},   {"19", "Pasco"},    {"20", "Piura"},
      {"21", "Puno"},          {"22", "San Martín"}, {"23", "Tacna"},    {"24", "Tumbes"},
      {"25", "Ucayali"},
  };
  return table;
}

std::string_view DepartmentName(std::string_view ubigeo) {
  if (ubigeo.size() < 2) return "";
  const std::string_view code = ubigeo.substr(0, 2);
  for (const auto& d : Departments()) {
    if (d.code == code) return d.name;
  }
  return "";
}

}  // namespace veta
